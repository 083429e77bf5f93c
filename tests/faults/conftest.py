import sys
from pathlib import Path

# The fault tests share the helpers of the tests one folder up (test_cli's tiny runs).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
