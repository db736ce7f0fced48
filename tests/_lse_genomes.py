"""Hand-built LSE genomes shared by the LSE tests."""
from nwot.spaces.lse.codec import Conv, Edge, Genome, Vertex

#: input (3x32x32) -e0 conv3x3 s2 c8-> v1 bn_relu (8x16x16) -e1 id-> v2 linear (8x16x16)
#: -e2 conv5x3 s2 c4-> v3 bn_relu (4x8x8) = output; skip e3: v1 -> v3 (8x16x16 reshaped to 4x8x8).
CHAIN = Genome(
    (Vertex(0, "linear"), Vertex(1, "bn_relu"), Vertex(2, "linear"), Vertex(3, "bn_relu")),
    (Edge(0, 0, 1, Conv(8, 3, 3, 2)), Edge(1, 1, 2), Edge(2, 2, 3, Conv(4, 5, 3, 2)), Edge(3, 1, 3, None, True)),
    output=3, learning_rate=0.05)

CHAIN_SHAPES = {0: (3, 32, 32), 1: (8, 16, 16), 2: (8, 16, 16), 3: (4, 8, 8)}
