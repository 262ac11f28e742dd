#!/usr/bin/env python3
"""Runs the API integration suite: `python3 tests/api/run_tests.py [-k PATTERN] [test_file ...]`.

TRUNKLINE_BIN selects the binary (default <repo>/build/src/app/trunkline); TRUNKLINE_TEST_KEEP=1
keeps the data directories and server logs. Same as ctest -L api, without CMake.
"""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)


def main():
    args = sys.argv[1:]
    names = [a[:-3] if a.endswith(".py") else a for a in args if not a.startswith("-")]
    loader = unittest.TestLoader()
    if "-k" in args:
        loader.testNamePatterns = [f"*{args[args.index('-k') + 1]}*"]
        names = [n for n in names if n != args[args.index("-k") + 1]]
    if names:
        suite = loader.loadTestsFromNames(names)
    else:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    sys.exit(0 if result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
