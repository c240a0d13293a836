import os
import sys
import tempfile

# Import the package from this source tree, and keep the kernel cache of the
# test run out of the user's ~/.cache.
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
# The numpy oracle of the mask patterns, shared with the differential test.
sys.path.insert(0, os.path.join(HERE, "..", "..", "test", "Integration"))
os.environ.setdefault("SATTN_CACHE_DIR", tempfile.mkdtemp(prefix="sattn-test-cache-"))
