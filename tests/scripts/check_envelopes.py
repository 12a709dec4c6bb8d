"""Validate --json envelopes against docs/cli-json.schema.json (JSON Schema 2020-12).

    check_envelopes.py SCHEMA ENVELOPES.jsonl

Each line of ENVELOPES.jsonl is {"name": ..., "envelope": ...}. Prints one line per
violation (name, JSON path, message); exit 1 if there is any. The schema itself is checked
first. Used by tests/cli_contract.rs and verify/tests (jsonschema from scripts/requirements.txt).
"""

import json
import sys

import jsonschema

schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
bad = 0
for line in open(sys.argv[2]):
    item = json.loads(line)
    for error in validator.iter_errors(item["envelope"]):
        bad += 1
        print(f"{item['name']}: {error.json_path}: {error.message}")
sys.exit(1 if bad else 0)
