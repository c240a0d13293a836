# -*- Python -*-
# lit configuration of the gtest unit tests: each TEST() is one lit test.

import os

import lit.formats

config.name = "SATTN-Unit"
config.suffixes = []
config.test_exec_root = os.path.join(config.sattn_obj_root, "unittests")
config.test_source_root = config.test_exec_root
config.test_format = lit.formats.GoogleTest(".", "Tests")
