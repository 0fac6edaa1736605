"""Guard against the Qt binding build we pin away from.

PySide6-Essentials 6.12.0's abi3 shiboken drops a reference to None on every
void call and to True on every emit: on Python 3.11 the app aborts after a
few thousand calls. The loop runs in a subprocess so a regression fails this
test instead of killing the test run.
"""

import subprocess
import sys

LOOP = """
from PySide6.QtCore import QCoreApplication, QObject, Signal
app = QCoreApplication([])
class O(QObject):
    s = Signal()
o = O()
before = sys.getrefcount(None), sys.getrefcount(True)
for _ in range(30000):
    o.setObjectName("x")
    o.s.emit()
after = sys.getrefcount(None), sys.getrefcount(True)
print(after[0] - before[0], after[1] - before[1])
"""


def test_many_void_calls_and_emits_do_not_corrupt_refcounts():
    proc = subprocess.run([sys.executable, "-c", "import sys\n" + LOOP], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-500:]
    none_delta, true_delta = map(int, proc.stdout.split())
    assert abs(none_delta) < 100 and abs(true_delta) < 100
