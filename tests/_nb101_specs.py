"""NAS-Bench-101 cells with published reference values, shared by the NB101 space and model tests."""
from nwot.spaces.nb101.codec import CONV1X1, CONV3X3, INPUT, MAXPOOL3X3, OUTPUT, Spec

I, O, C3, C1, M = INPUT, OUTPUT, CONV3X3, CONV1X1, MAXPOOL3X3

# The official example notebook (NASBench.ipynb, "Basic usage") queries this Inception-like cell and
# prints trainable_parameters: 2694282 (the official TensorFlow model, stem 128).
INCEPTION = Spec(((0, 1, 1, 1, 0, 1, 0),
                  (0, 0, 0, 0, 0, 0, 1),
                  (0, 0, 0, 0, 0, 0, 1),
                  (0, 0, 0, 0, 1, 0, 0),
                  (0, 0, 0, 0, 0, 0, 1),
                  (0, 0, 0, 0, 0, 0, 1),
                  (0, 0, 0, 0, 0, 0, 0)), (I, C1, C3, C3, C3, M, O))
# The first row of the official nasbench_only108.tfrecord, as printed by several users of the official
# API (e.g. NNI's NAS-Bench-101 docs): hash 00005c142e6f48ac74fdcf73e3439874, 8,555,530 parameters.
FIRST_ROW = Spec(((0, 1, 0, 0, 1, 1, 0),
                  (0, 0, 1, 0, 0, 0, 0),
                  (0, 0, 0, 1, 0, 0, 1),
                  (0, 0, 0, 0, 0, 1, 0),
                  (0, 0, 0, 0, 0, 1, 0),
                  (0, 0, 0, 0, 0, 0, 1),
                  (0, 0, 0, 0, 0, 0, 0)), (I, C3, M, C3, C3, C1, O))
FIRST_ROW_HASH = "00005c142e6f48ac74fdcf73e3439874"
