import os
import sys
import tempfile

# Import the package from this source tree, and keep the kernel cache of the
# test run out of the user's ~/.cache.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ.setdefault("SATTN_CACHE_DIR", tempfile.mkdtemp(prefix="sattn-test-cache-"))
