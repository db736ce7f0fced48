/* Exact Gram products of 0/1 ReLU codes by bit packing and popcount (nwot.proxies.bitgram).
 *
 * Mellor et al., ICML 2021, arXiv:2006.04647, section 3: the NASWOT kernel needs G = c c^T per layer,
 * G[i][j] = number of units active for both images i and j. Packing 64 units' codes into one word,
 * G[i][j] = sum_w popcount(p[i][w] & p[j][w]): 64 unit pairs per AND + POPCNT, integer arithmetic, exact.
 * Built by nwot.machine.native with $CC -O3 -march=native -fPIC -shared.
 */
#include <math.h>
#include <stdint.h>
#if defined(__AVX2__)
#include <immintrin.h>
#endif

/* Flags returned by nwot_pack_f32. */
#define NWOT_ALL_FINITE 1
#define NWOT_ANY_SET 2

/* Pack the codes 1[x > 0] of a row-major (B, U) float32 array into (B, W) words, W = ceil(U / 64):
 * bit k of word w of row i is x[i][64 w + k] > 0; padding bits are 0. Returns NWOT_ALL_FINITE when no
 * entry is NaN or +-inf (x - x is NaN exactly for those) and NWOT_ANY_SET when some code is 1. */
int nwot_pack_f32(const float *x, int64_t B, int64_t U, uint64_t *out) {
    const int64_t W = (U + 63) / 64;
    float bad = 0.0f;
    uint64_t any = 0;
    for (int64_t i = 0; i < B; i++) {
        const float *row = x + i * U;
        uint64_t *dst = out + i * W;
        int64_t w = 0;
#if defined(__AVX2__)
        const __m256 zero = _mm256_setzero_ps();
        __m256 acc = zero;
        for (; (w + 1) * 64 <= U; w++) {
            const float *s = row + w * 64;
            uint64_t bits = 0;
            for (int k = 0; k < 8; k++) {
                __m256 v = _mm256_loadu_ps(s + 8 * k);
                acc = _mm256_add_ps(acc, _mm256_sub_ps(v, v));
                bits |= (uint64_t)(uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(v, zero, _CMP_GT_OQ)) << (8 * k);
            }
            dst[w] = bits;
            any |= bits;
        }
        float lanes[8];
        _mm256_storeu_ps(lanes, acc);
        for (int k = 0; k < 8; k++) bad += lanes[k];
#endif
        for (; w < W; w++) {
            uint64_t bits = 0;
            const int64_t n = U - w * 64 < 64 ? U - w * 64 : 64;
            for (int64_t k = 0; k < n; k++) {
                const float v = row[w * 64 + k];
                bad += v - v;
                bits |= (uint64_t)(v > 0.0f) << k;
            }
            dst[w] = bits;
            any |= bits;
        }
    }
    return (isnan(bad) ? 0 : NWOT_ALL_FINITE) | (any ? NWOT_ANY_SET : 0);
}

/* G[i][j] += sum_w popcount(p[i][w] & p[j][w]) for the (B, W) words p; G is row-major (B, B) int64.
 * One triangle is computed (j <= i, four j at a time so each word of row i is loaded once per four)
 * and mirrored. */
void nwot_gram_packed(const uint64_t *p, int64_t B, int64_t W, int64_t *G) {
    for (int64_t i = 0; i < B; i++) {
        const uint64_t *a = p + i * W;
        int64_t j = 0;
        for (; j + 4 <= i + 1; j += 4) {
            const uint64_t *b0 = p + j * W, *b1 = b0 + W, *b2 = b1 + W, *b3 = b2 + W;
            uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            for (int64_t w = 0; w < W; w++) {
                const uint64_t v = a[w];
                s0 += (uint64_t)__builtin_popcountll(v & b0[w]);
                s1 += (uint64_t)__builtin_popcountll(v & b1[w]);
                s2 += (uint64_t)__builtin_popcountll(v & b2[w]);
                s3 += (uint64_t)__builtin_popcountll(v & b3[w]);
            }
            const uint64_t s[4] = {s0, s1, s2, s3};
            for (int k = 0; k < 4; k++) {
                G[i * B + j + k] += (int64_t)s[k];
                if (i != j + k) G[(j + k) * B + i] += (int64_t)s[k];
            }
        }
        for (; j <= i; j++) {
            const uint64_t *b = p + j * W;
            uint64_t s = 0;
            for (int64_t w = 0; w < W; w++) s += (uint64_t)__builtin_popcountll(a[w] & b[w]);
            G[i * B + j] += (int64_t)s;
            if (i != j) G[j * B + i] += (int64_t)s;
        }
    }
}
