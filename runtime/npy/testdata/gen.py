# Writes the .npy files of npy_test.go with numpy (Debian's python3-numpy):
#   /usr/bin/python3 gen.py
# CI needs no Python: the files are committed.
import numpy as np
from numpy.lib import format as fmt

a = np.arange(6, dtype=np.float32).reshape(2, 3) / 4 - 0.5
np.save("f4_2x3.npy", a)
np.save("f8_1x1x2x2.npy", (np.arange(4, dtype=np.float64).reshape(1, 1, 2, 2) / 3))
np.save("f4_scalar.npy", np.float32(2.5))
np.save("f4_empty.npy", np.zeros((0, 3), dtype=np.float32))
np.save("f4_vector.npy", np.array([1, -2, 3.5], dtype=np.float32))
np.save("fortran.npy", np.asfortranarray(a))
np.save("bigendian.npy", a.astype(">f4"))
np.save("int32.npy", np.arange(6, dtype=np.int32).reshape(2, 3))
np.save("f2.npy", a.astype(np.float16))
for v in (2, 3):
    with open("f4_2x3_v%d.npy" % v, "wb") as f:
        fmt.write_array(f, a, version=(v, 0))
