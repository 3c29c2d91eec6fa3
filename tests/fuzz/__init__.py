"""The in-tree fuzzing campaign of issue 14 (docs/reliability.md): mutate.py
mutates the bundled inputs, oracle.py runs one command in a bounded
subprocess and classifies the outcome, campaign.py builds the cases that
both test_fuzz.py (a bounded CI sample) and bench/fuzz.py (the full
campaign) run."""
