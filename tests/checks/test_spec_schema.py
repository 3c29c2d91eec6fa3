"""The spec format's JSON Schema (checks/schema/spec.schema.json; docs/spec-format.md
"Editors: the JSON Schema") against the loader's real rules: the same keys, the same
names, the same limits; every bundled spec valid; known-bad specs refused by both."""

import json
import os
import re
import shutil
import subprocess
import tomllib
from importlib.resources import files

import jsonschema
import pytest

from replcheck.checks import drill
from replcheck.checks.anomalies import MEANINGS
from replcheck.checks.conform import observed as observed_mod
from replcheck.checks.invariants import INVARIANTS
from replcheck.checks.verdict import load
from replcheck.model import spec as spec_mod
from replcheck.model.clocks import CLOCKS
from replcheck.model.errors import SpecError
from replcheck.model.resolvers import RESOLVERS, TABLES
from replcheck.model.resolvers import config as resolver_config
from replcheck.model.resolvers.local_checks import CHECKED_OPS
from replcheck.model.resolvers.lww import TIE_BREAKS
from replcheck.model.resolvers.register import DELETE_RULES
from replcheck.model.topology import LOOP_PREVENTION, TOPOLOGIES
from tests.conftest import ROOT

SCHEMA_FILE = ROOT / "checks" / "schema" / "spec.schema.json"
SCHEMA = json.loads(SCHEMA_FILE.read_text())
VALIDATOR = jsonschema.validators.validator_for(SCHEMA)(SCHEMA)
DEFS = SCHEMA["definitions"]
TOP = SCHEMA["properties"]
SPECS = sorted(p for p in [*(ROOT / "specs").rglob("*.toml"), *(ROOT / "bench" / "specs").glob("*.toml"),
                           *(ROOT / "examples").rglob("*.toml")] if "answers" not in p.parts)


def errors(data) -> list[str]:
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(data)]


def test_the_schema_is_draft_4_which_taplo_reads():
    # Taplo (Even Better TOML) validates with Draft 4 (taplo.tamasfe.dev, "Developing Schemas").
    assert SCHEMA["$schema"] == "http://json-schema.org/draft-04/schema#"
    jsonschema.Draft4Validator.check_schema(SCHEMA)


def test_the_schema_ships_in_the_package():
    assert files("replcheck.checks").joinpath("schema/spec.schema.json").is_file()


def test_there_are_specs_to_validate():
    assert len(SPECS) >= 130


@pytest.mark.parametrize("path", SPECS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_bundled_spec_validates(path):
    data = tomllib.loads(path.read_text())
    assert errors(data) == []


# ------------------------------------------------------------ the loader's keys
def _keys(node) -> set[str]:
    return set(node["properties"])


def test_top_level_tables_are_the_loaders():
    assert _keys(SCHEMA) == spec_mod._TOP_KEYS
    assert SCHEMA["additionalProperties"] is False


def test_system_keys_are_the_loaders():
    assert _keys(TOP["system"]) == spec_mod._SYSTEM_KEYS


def test_workload_op_keys_are_the_loaders():
    op = DEFS["op"]
    assert _keys(op) == spec_mod._OP_KEYS
    kinds = {one["required"][0] for one in op["oneOf"]}
    assert kinds == set(resolver_config.OP_KINDS) | set(CHECKED_OPS)   # exactly one op kind


def test_other_tables_are_the_loaders():
    assert _keys(TOP["bounds"]) == spec_mod._BOUND_KEYS
    assert _keys(TOP["faults"]) == spec_mod._FAULT_KEYS
    assert _keys(TOP["check"]) == {"invariants"}
    assert _keys(DEFS["keyTable"]) == resolver_config._KEY_FIELDS
    assert _keys(TOP["drill"]) == set(drill._DRILL_KEYS)
    assert _keys(TOP["drill"]["properties"]["homes"]) == set(drill.HOME_BASES)


def test_names_are_the_catalogues():
    system = TOP["system"]["properties"]
    assert system["topology"]["enum"] == list(TOPOLOGIES)
    assert system["loop_prevention"]["enum"] == list(LOOP_PREVENTION)
    assert system["resolver"]["enum"] == list(RESOLVERS)
    assert system["clock"]["enum"] == list(CLOCKS)
    assert system["tie_break"]["enum"] == list(TIE_BREAKS)
    assert DEFS["linkKind"]["enum"] == list(spec_mod.LINK_KINDS)
    assert DEFS["deleteRule"]["enum"] == list(DELETE_RULES)
    assert TOP["requires"]["items"]["enum"] == list(resolver_config.REQUIREMENTS)
    assert TOP["check"]["properties"]["invariants"]["items"]["enum"] == list(INVARIANTS)
    assert _keys(TOP["expect"]) == set(INVARIANTS)
    assert TOP["drill"]["properties"]["layouts"]["items"]["enum"] == list(drill.LAYOUTS)
    assert TOP["observed"]["properties"]["target"]["enum"] == list(observed_mod.TARGET_NAMES)
    key = DEFS["keyTable"]["properties"]
    # type: register, or a type that is its own merge (mv-register too, model/resolvers/config.py _entry)
    assert set(key["type"]["enum"]) == ({"register", "mv-register"} | set(TABLES)
                                        | {n for n, i in RESOLVERS.items() if i.family != "register"})
    assert set(key["resolver"]["enum"]) == {n for n, i in RESOLVERS.items() if i.family == "register"}
    assert DEFS["merge"]["pattern"] == resolver_config._MERGE_RE.pattern


def test_every_anomaly_kind_is_offered_after_violated():
    offered = {v.removeprefix("violated:") for v in DEFS["expectation"]["anyOf"][0]["enum"] if ":" in v}
    assert set(MEANINGS) <= offered
    for path in SPECS:   # every kind a bundled spec expects
        for v in tomllib.loads(path.read_text()).get("expect", {}).values():
            if v.startswith("violated:"):
                assert v.removeprefix("violated:") in offered, (path, v)


def test_limits_are_the_loaders():
    assert TOP["system"]["properties"]["leaders"]["maxItems"] == spec_mod.MAX_LEADERS
    assert TOP["workload"]["maxItems"] == spec_mod.MAX_OPS
    initial = DEFS["keyTable"]["properties"]["initial"]["anyOf"][1]
    assert initial["maxItems"] == resolver_config.MAX_SET_ELEMENTS


# ---------------------------------------------------- known-bad: both refuse
GOOD = '''
name = "x"
[system]
leaders = ["us-east", "eu-west"]
topology = "all-to-all"
resolver = "lww"
clock = "wall"
[[workload]]
id = "alice"
leader = "eu-west"
key = "k"
set = "A"
[[workload]]
id = "bob"
leader = "us-east"
key = "k"
set = "B"
[expect]
convergence = "holds"
'''


def test_the_good_spec_passes_both(tmp_path):
    p = tmp_path / "good.toml"
    p.write_text(GOOD)
    load(p)
    assert errors(tomllib.loads(GOOD)) == []


SEVENTEEN = "[" + ", ".join(f'"l{i}"' for i in range(17)) + "]"


@pytest.mark.parametrize("old,new,key", [
    ("[system]", "[sytem]", "sytem"),                                              # unknown top-level table
    ('leaders = ["us-east", "eu-west"]', 'leaders = "us-east"', "system.leaders"),   # wrong type
    ('clock = "wall"', 'clokc = "wall"', "system.clokc"),                           # unknown key
    ('resolver = "lww"', 'resolver = "lvw"', "system.resolver"),                    # unknown name
    ('topology = "all-to-all"', 'topology = "rnig"', "system.topology"),
    ('leaders = ["us-east", "eu-west"]', 'leaders = ["us-east"]', "system.leaders"),  # too few
    ('leaders = ["us-east", "eu-west"]', f"leaders = {SEVENTEEN}", "system.leaders"),  # too many
    ('set = "A"', "delete = false", "workload[0].delete"),
    ('set = "A"', 'set = "A"\ndelete = true', "workload[0]"),                       # two op kinds
    ('set = "A"', 'set = true', "workload[0].set"),
    ('set = "A"', 'incr = 0', "workload[0].incr"),
    ('key = "k"\nset = "A"', 'set = "A"', "workload[0].key"),                       # missing key
    ('id = "alice"', 'id = "alice"\nwhen = 3', "workload[0].when"),
    ('convergence = "holds"', 'convergence = "hold"', "expect.convergence"),
    ('convergence = "holds"', 'convergense = "holds"', "expect.convergense"),
    ('convergence = "holds"', 'convergence = "holds:lost-update"', "expect.convergence"),
    ('[expect]', '[bounds]\nmax_states = 0\n[expect]', "bounds.max_states"),
    ('[expect]', '[bounds]\nmax_seconds = -1\n[expect]', "bounds.max_seconds"),
    ('[expect]', '[bounds]\nmax_memory = 5\n[expect]', "bounds.max_memory"),
    ('[expect]', '[check]\ninvariants = []\n[expect]', "check.invariants"),
    ('[expect]', '[check]\ninvariants = ["durabilty"]\n[expect]', "check.invariants[0]"),
    ('name = "x"', 'name = "x"\nrequires = ["pyhton"]', "requires[0]"),
    ('name = "x"', 'name = 3', "name"),
    ('[expect]', '[keys."k"]\ntyp = "or-set"\n[expect]', "keys.k.typ"),
    ('[expect]', '[keys."k"]\ntype = "lww"\n[expect]', "keys.k.type"),
    ('[expect]', '[faults]\ncrashes = -1\n[expect]', "faults.crashes"),
    ('[expect]', '[faults]\nrecoveries = "yes"\n[expect]', "faults.recoveries"),
    ('clock = "wall"', 'clock = "wall"\nlinks = "lossless"', "system.links"),
    ('clock = "wall"', 'clock = "wall"\noffsets = { us-east = "-5" }', "system.offsets.us-east"),
    ('clock = "wall"', 'clock = "wall"\nlink_kinds = { "us-east" = "fifo" }', "system.link_kinds.us-east"),
    ('clock = "wall"', 'clock = "wall"\nlatency_ms = -1', "system.latency_ms"),
    ('clock = "wall"', 'clock = "wall"\ncommit_ms = 1.5', "system.commit_ms"),
])
def test_known_bad_specs_are_refused_by_both(tmp_path, old, new, key):
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    p = tmp_path / "bad.toml"
    p.write_text(text)
    with pytest.raises(SpecError) as e:
        load(p)
    assert e.value.key == key, str(e.value)
    assert errors(tomllib.loads(text)), f"the schema accepts what the loader refuses at {key}"


def test_an_observed_table_needs_every_key_in_both(tmp_path):
    base = ROOT / "specs" / "conformance" / "pglogical"
    path = next(p for p in sorted(base.glob("*.toml")) if "[observed]" in p.read_text())
    data = tomllib.loads(path.read_text())
    assert errors(data) == []
    for k in TOP["observed"]["required"]:
        text = re.sub(rf"(?m)^{k} = .*\n", "", path.read_text())
        p = tmp_path / path.name
        p.write_text(text)
        with pytest.raises(SpecError, match=f"observed.{k}: missing"):
            observed_mod.observed(load(p))
        assert errors(tomllib.loads(text)), k


@pytest.mark.parametrize("old,new", [
    ('name = "x"\n', 'name = "x"\nworkload = []\n'),                                         # see below
    ('convergence = "holds"', 'convergence = "holds:"'),                                     # read as "holds"
    ('convergence = "holds"', 'convergence = "violated:some-kind-of-its-own"'),              # any anomaly name
    ('set = "A"', 'set = 2.5'),
    ('key = "k"\nset = "A"', 'key = "c"\nsell = 1\n[keys."c"]\ntype = "pn-counter"\ninitial = -1'),
    ('clock = "wall"', 'clock = "wall"\nlatency_ms = { "us-east -> eu-west" = 0 }\ncommit_ms = 0'),
    ('[expect]', '[keys."s"]\ntype = "or-set"\ninitial = ["", 3]\n[expect]'),
])
def test_what_the_loader_accepts_the_schema_accepts(tmp_path, old, new):
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    if "workload = []" in text:   # an empty workload loads: drop the [[workload]] tables
        text = re.sub(r"\[\[workload\]\]\n(?:\w+ = .*\n)+", "", text)
    p = tmp_path / "edge.toml"
    p.write_text(text)
    load(p)
    assert errors(tomllib.loads(text)) == []


def test_the_full_example_of_the_docs_passes_both():
    text = (ROOT / "docs" / "spec-format.md").read_text()
    example = re.search(r"```toml\n(.*?)```", text, re.S).group(1)
    data = tomllib.loads(example)
    assert errors(data) == []
    spec_mod.parse_spec(data, "<docs/spec-format.md>", INVARIANTS)


TAPLO = os.environ.get("REPLCHECK_TAPLO") or shutil.which("taplo")


@pytest.mark.skipif(TAPLO is None, reason="no taplo on PATH (pip install taplo, or set REPLCHECK_TAPLO)")
def test_taplo_reads_the_schema_as_docs_spec_format_md_shows(tmp_path):
    # The .taplo.toml rule of docs/spec-format.md "Editors: the JSON Schema", run by taplo itself.
    (tmp_path / "checks" / "schema").mkdir(parents=True)
    shutil.copy(SCHEMA_FILE, tmp_path / "checks" / "schema")
    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    (tmp_path / ".taplo.toml").write_text('[[rule]]\ninclude = ["specs/**/*.toml"]\nexclude = ["specs/drills/answers/**"]'
                                          '\n\n[rule.schema]\npath = "./checks/schema/spec.schema.json"\n')
    run = lambda *args: subprocess.run([TAPLO, "check", *args], cwd=tmp_path, capture_output=True, text=True)
    ok = run()
    assert ok.returncode == 0, ok.stderr
    seed = tmp_path / "specs" / "seed" / "alice-bob-lww.toml"
    seed.write_text(seed.read_text().replace('resolver = "lww"', 'resolver = "lvw"'))
    bad = run("specs/seed/alice-bob-lww.toml")
    assert bad.returncode != 0 and '"lvw" is not one of' in bad.stderr + bad.stdout
