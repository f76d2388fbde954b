#!/usr/bin/python3
"""Validates a converge run document against results/run.schema.json, then checks what a
schema cannot say (results/SCHEMA.md, "Validity rules"), results against the plan included.

usage: validate_run.py SCHEMA DOC [--expect-benchmarks id1,id2,...] [--expect-status id=status ...]

Exit status: 0 valid (one summary line on stdout), 1 violations (one line each on stderr),
2 bad usage or unreadable schema, 77 when python3 lacks jsonschema (CTest's skip code).
"""
import argparse
import collections
import json
import math
import sys

try:
    import jsonschema
except ImportError:
    print("validate_run: python3 has no jsonschema module (apt-get install python3-jsonschema)",
          file=sys.stderr)
    sys.exit(77)

STATUSES = ("ok", "failed", "skipped", "invalid")


def location(path):
    """JSON path of an error as the SCHEMA.md writes it: results[2].time.median."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"


def finite(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def reject_constant(name):
    raise ValueError(f"{name} is not JSON (a non-finite number must be written as null)")


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f, parse_constant=reject_constant)


def schema_errors(schema, doc):
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    return [f"{location(e.absolute_path)}: {e.message}" for e in errors]


def result_errors(i, r):
    """Rules for one result that the schema cannot express."""
    where = f"results[{i}] ({r['benchmark']})"
    status, verification = r["status"], r["verification"]
    errors = []
    if status == "ok":
        if not r["samples_s"]:
            errors.append(f"{where}: status ok but no samples")
        if r["time"]["n"] != len(r["samples_s"]):
            errors.append(f"{where}: time.n is {r['time']['n']} but there are "
                          f"{len(r['samples_s'])} samples")
        median = r["time"]["median"]
        if not (finite(median) and median > 0):
            errors.append(f"{where}: status ok but time.median is {json.dumps(median)} "
                          "(must be finite and positive)")
        for m in r["metrics"]:
            if not finite(m["value"]):
                errors.append(f"{where}: status ok but metric {m['name']} has value "
                              f"{json.dumps(m['value'])}")
        if verification["status"] == "not_checked":
            if not r["notes"].get("verification"):
                errors.append(f"{where}: status ok but not verified, and no note 'verification' "
                              "says why")
        elif verification["status"] != "passed":
            errors.append(f"{where}: status ok but verification {verification['status']}")
    elif status == "invalid":
        if verification["status"] != "failed":
            errors.append(f"{where}: status invalid but verification {verification['status']} "
                          "(invalid means verification failed)")
    energy = r["energy"]
    if energy["measured"]:
        if not (finite(energy["joules"]) and energy["joules"] >= 0) or not energy["domains"]:
            errors.append(f"{where}: energy measured but joules {energy['joules']} / no domains")
    elif not energy["reason"] or energy["joules"] is not None:
        errors.append(f"{where}: energy not measured needs a reason and null joules")
    if status != "ok" and not r["reason"]:
        errors.append(f"{where}: status {status} without a reason")
    if status != "ok" and r["metrics"]:
        errors.append(f"{where}: status {status} but has metrics (only ok results report figures)")
    return errors


def plan_errors(doc):
    """Results against the plan: each names a planned instance, no (instance, rank) twice, at
    most `ranks` results per instance, and a complete run has a result for every instance."""
    plan = {p["instance"]: p for p in doc["plan"]}
    errors, seen = [], collections.Counter()
    for i, r in enumerate(doc["results"]):
        where = f"results[{i}] ({r['benchmark']})"
        if r["instance"] < 0:
            continue  # a document written outside a plan
        p = plan.get(r["instance"])
        if p is None:
            errors.append(f"{where}: instance {r['instance']} is not in the plan")
            continue
        if p["benchmark"] != r["benchmark"]:
            errors.append(f"{where}: instance {r['instance']} is {p['benchmark']} in the plan")
        if r["rank"] >= p["ranks"]:
            errors.append(f"{where}: rank {r['rank']} but the instance has {p['ranks']} rank(s)")
        seen[(r["instance"], r["rank"])] += 1
    for (inst, rank), n in seen.items():
        if n > 1:
            errors.append(f"instance {inst} rank {rank} has {n} results (a result is written once)")
    if doc["complete"]:
        have = {k[0] for k in seen}
        for inst in plan:
            if inst not in have:
                errors.append(f"complete run without a result for planned instance {inst} "
                              f"({plan[inst]['benchmark']})")
    return errors


def expectation_errors(results, expect_benchmarks, expect_status):
    by_id = collections.defaultdict(list)
    for r in results:
        by_id[r["benchmark"]].append(r["status"])
    errors = []
    for bench in expect_benchmarks:
        if bench not in by_id:
            errors.append(f"expected benchmark {bench}: not in the document")
    for bench, status in expect_status:
        if bench not in by_id:
            errors.append(f"expected {bench}={status}: benchmark not in the document")
            continue
        for i, got in enumerate(by_id[bench]):
            if got != status:
                errors.append(f"expected {bench}={status}: instance {i} has status {got}")
    return errors


def status_expectation(text):
    bench, sep, status = text.partition("=")
    if not sep or not bench or status not in STATUSES:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not id=status with status one of {', '.join(STATUSES)}")
    return bench, status


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("schema", help="results/run.schema.json")
    parser.add_argument("doc", help="the run document to check")
    parser.add_argument("--expect-benchmarks", default="", metavar="ID,ID,...",
                        help="benchmark ids that must appear among the results")
    parser.add_argument("--expect-status", type=status_expectation, nargs="+", action="extend",
                        default=[], metavar="ID=STATUS",
                        help="every result of benchmark ID must have STATUS")
    args = parser.parse_args(argv)

    try:
        schema = load(args.schema)
        jsonschema.Draft202012Validator.check_schema(schema)
    except (OSError, ValueError, jsonschema.SchemaError) as e:
        print(f"validate_run: schema {args.schema}: {e}", file=sys.stderr)
        return 2
    try:
        doc = load(args.doc)
    except (OSError, ValueError) as e:
        print(f"validate_run: {args.doc}: {e}", file=sys.stderr)
        return 1

    errors = schema_errors(schema, doc)
    if not errors:  # semantic rules assume the shape the schema guarantees
        for i, r in enumerate(doc["results"]):
            errors += result_errors(i, r)
        expected = [b for b in args.expect_benchmarks.split(",") if b]
        errors += plan_errors(doc)
        errors += expectation_errors(doc["results"], expected, args.expect_status)
    if errors:
        print(f"validate_run: {args.doc}: {len(errors)} problem(s):", file=sys.stderr)
        for e in errors:
            print(f"  {e}", file=sys.stderr)
        return 1

    counts = collections.Counter(r["status"] for r in doc["results"])
    by_status = ", ".join(f"{counts[s]} {s}" for s in STATUSES if counts[s])
    print(f"validate_run: {args.doc}: valid (schema_version {doc['schema_version']}, "
          f"run {doc['run_id']}, {len(doc['results'])} results{': ' if by_status else ''}"
          f"{by_status}{'' if doc['complete'] else ', incomplete'})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
