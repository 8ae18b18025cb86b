#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""grade-json-check.py - check a results.json of make grade against the
format docs/course.md documents (the subset of Gradescope's autograder
results that make grade writes).

Usage: scripts/grade-json-check.py FILE [MAX]

With MAX, the tests' max_score must add up to it.  Exit status 0 if the
file is valid, 1 (with the reasons on stderr) if not.
"""
import json
import sys

TOP = {"score": (int, float), "execution_time": (int, float), "output": str,
       "tests": list}
TEST = {"name": str, "score": (int, float), "max_score": (int, float),
        "status": str, "output": str, "tags": list}


def check(doc, want_max):
    errs = []
    if not isinstance(doc, dict):
        return ["the top level is not an object"]
    for key, kind in TOP.items():
        if key not in doc:
            errs.append("no top-level \"%s\"" % key)
        elif not isinstance(doc[key], kind) or isinstance(doc[key], bool):
            errs.append("top-level \"%s\" has the wrong type" % key)
    for key in doc:
        if key not in TOP:
            errs.append("unknown top-level key \"%s\"" % key)
    if errs:
        return errs
    names = set()
    total = maximum = 0
    for i, t in enumerate(doc["tests"]):
        where = "tests[%d]" % i
        if not isinstance(t, dict):
            errs.append(where + " is not an object")
            continue
        for key, kind in TEST.items():
            if key not in t:
                errs.append("%s has no \"%s\"" % (where, key))
            elif not isinstance(t[key], kind) or isinstance(t[key], bool):
                errs.append("%s: \"%s\" has the wrong type" % (where, key))
        for key in t:
            if key not in TEST:
                errs.append("%s: unknown key \"%s\"" % (where, key))
        if any(k not in t for k in TEST):
            continue
        if t["name"] in names:
            errs.append("%s: name \"%s\" given twice" % (where, t["name"]))
        names.add(t["name"])
        if not 0 <= t["score"] <= t["max_score"]:
            errs.append("%s: score %s outside [0, %s]" %
                        (where, t["score"], t["max_score"]))
        if t["status"] not in ("passed", "failed"):
            errs.append("%s: status \"%s\"" % (where, t["status"]))
        elif (t["status"] == "passed") != (t["score"] == t["max_score"]):
            errs.append("%s: status \"%s\" with score %s of %s" %
                        (where, t["status"], t["score"], t["max_score"]))
        if not all(isinstance(g, str) for g in t["tags"]):
            errs.append(where + ": a tag is not a string")
        total += t["score"]
        maximum += t["max_score"]
    if not errs and doc["score"] != total:
        errs.append("score %s is not the sum of the tests' %s" %
                    (doc["score"], total))
    if not errs and want_max is not None and maximum != want_max:
        errs.append("the tests' max_score add up to %s, not %s" %
                    (maximum, want_max))
    return errs


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    try:
        with open(sys.argv[1], encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        print("%s: %s" % (sys.argv[1], e), file=sys.stderr)
        return 1
    errs = check(doc, float(sys.argv[2]) if len(sys.argv) == 3 else None)
    for e in errs:
        print("%s: %s" % (sys.argv[1], e), file=sys.stderr)
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
