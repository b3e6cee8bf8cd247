#!/usr/bin/env python3
"""Runs every tests/integration/test_*.py with unittest, verbosely, on stdout, and ends with

    integration: P passed, F failed, S skipped

F counts failures, errors, unexpected successes, expected failures and tests that never ran
(e.g. after a setUpModule error) -- and also the S skipped tests: a test skipped in CI counts as
missing, so it is listed and counted as a failure too (S says how many of F were skips).
Exit status 0 only when F is 0. SYNCD_BIN names the syncd binary under test (see harness.py).
"""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def case_id(test):
    """The id of the test method, also for a subtest (counted with its parent)."""
    return getattr(test, "test_case", test).id()


class Result(unittest.TextTestResult):
    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.succeeded, self.bad = set(), {}

    def addSuccess(self, test):
        super().addSuccess(test)
        self.succeeded.add(case_id(test))

    def _bad(self, test, why):
        self.bad.setdefault(case_id(test), why)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._bad(test, "failed")

    def addError(self, test, err):
        super().addError(test, err)
        self._bad(test, "error")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._bad(subtest, "failed (subtest)")

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._bad(test, f"skipped: {reason}")

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._bad(test, "expected failure")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._bad(test, "unexpected success")


def main():
    sys.path.insert(0, HERE)
    suite = unittest.defaultTestLoader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    discovered = suite.countTestCases()
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2, resultclass=Result).run(suite)
    sys.stdout.flush()

    passed = len(result.succeeded - set(result.bad))
    skipped = sum(1 for why in result.bad.values() if why.startswith("skipped"))
    # Tests that did not pass, or never ran (a setUpModule error stops a whole module); a
    # tearDownModule error is an entry of its own after tests that all passed.
    failed = max(discovered - passed, len(result.bad))
    for test, why in sorted(result.bad.items()):
        print(f"NOT PASSED: {test}: {why}")
    if discovered == 0:
        print("no integration tests found")
        failed = max(failed, 1)
    print(f"integration: {passed} passed, {failed} failed, {skipped} skipped")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
