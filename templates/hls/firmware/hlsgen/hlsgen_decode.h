// hlsgen primitives of decoders: rotary position embedding, key/value and latent caches, the decode
// mask, and the two-part scores of multi-head latent attention.
//
// RoPE: in each head, dimensions i and i + rope_dim/2 (i < rope_dim/2) rotate by the angle of the
// token's position; cos/sin come from tables computed by hlsgen (rope_tables in hlsgen/ir/ops/decode.py)
// of table_t. a*c - b*s and b*c + a*s are exact in the ap_fixed result types (sum_t holds them), so the
// only rounding is the one assignment to res_T, as in hlsgen's NumPy reference.
//
// Caches: the decode top function owns one static array per cache, cache[max_length][width], bound to
// BRAM or URAM (BIND_STORAGE from the config) and reshaped along the feature dimension only (dim 2), so
// that one memory word is one row. A step writes the token's row at the position (kv_cache); the
// attention that follows reads the cache in place (cached_* below): a loop over the positions, pipelined
// at II = 1, reads one row per iteration and uses its elements in parallel. Rows past the position are
// stale; the decode mask gives them probability exactly 0. The arithmetic is that of the prefill
// primitives (hlsgen_attention.h, hlsgen_linear.h): the same exact accumulators, the same one cast, so
// the results are bit for bit the same; only the order of the loops (positions outermost) differs.
#ifndef HLSGEN_DECODE_H_
#define HLSGEN_DECODE_H_

#include "hlsgen_common.h"

namespace hlsgen {

namespace detail {

template <class x_T, class res_T, typename CONFIG_T>
void rope_row(const x_T *x, res_T *y, const unsigned p,
              const typename CONFIG_T::table_t cos_table[CONFIG_T::n_positions * (CONFIG_T::rope_dim / 2)],
              const typename CONFIG_T::table_t sin_table[CONFIG_T::n_positions * (CONFIG_T::rope_dim / 2)]) {
    #pragma HLS INLINE
    static const unsigned half = CONFIG_T::rope_dim / 2;
Heads:
    for (unsigned h = 0; h < CONFIG_T::n_heads; h++) {
        const unsigned base = h * CONFIG_T::head_dim;
    Pairs:
        for (unsigned i = 0; i < half; i++) {
            const x_T a = x[base + i];
            const x_T b = x[base + i + half];
            const typename CONFIG_T::table_t c = cos_table[p * half + i];
            const typename CONFIG_T::table_t s = sin_table[p * half + i];
            const typename CONFIG_T::sum_t ya = a * c - b * s; // exact
            const typename CONFIG_T::sum_t yb = b * c + a * s; // exact
            y[base + i] = ya;
            y[base + i + half] = yb;
        }
    Rest:
        for (unsigned i = CONFIG_T::rope_dim; i < CONFIG_T::head_dim; i++) {
            y[base + i] = x[base + i];
        }
    }
}

} // namespace detail

// Prefill: row r of x[n_rows][n_heads*head_dim] is the token at position r.
template <class x_T, class res_T, typename CONFIG_T>
void rope(const x_T x[CONFIG_T::n_rows * CONFIG_T::n_heads * CONFIG_T::head_dim],
          res_T y[CONFIG_T::n_rows * CONFIG_T::n_heads * CONFIG_T::head_dim],
          const typename CONFIG_T::table_t cos_table[CONFIG_T::n_positions * (CONFIG_T::rope_dim / 2)],
          const typename CONFIG_T::table_t sin_table[CONFIG_T::n_positions * (CONFIG_T::rope_dim / 2)]) {
    #pragma HLS INLINE off
    #pragma HLS PIPELINE II = CONFIG_T::reuse_factor
    static const unsigned width = CONFIG_T::n_heads * CONFIG_T::head_dim;
Rows:
    for (unsigned r = 0; r < CONFIG_T::n_rows; r++) {
        detail::rope_row<x_T, res_T, CONFIG_T>(x + r * width, y + r * width, r, cos_table, sin_table);
    }
}

// Decode: the rows are the tokens at pos[0], pos[0] + 1, ...
template <class x_T, class pos_T, class res_T, typename CONFIG_T>
void rope_at(const x_T x[CONFIG_T::n_rows * CONFIG_T::n_heads * CONFIG_T::head_dim], const pos_T pos[1],
             res_T y[CONFIG_T::n_rows * CONFIG_T::n_heads * CONFIG_T::head_dim],
             const typename CONFIG_T::table_t cos_table[CONFIG_T::n_positions * (CONFIG_T::rope_dim / 2)],
             const typename CONFIG_T::table_t sin_table[CONFIG_T::n_positions * (CONFIG_T::rope_dim / 2)]) {
    #pragma HLS INLINE off
    #pragma HLS PIPELINE II = CONFIG_T::reuse_factor
    static const unsigned width = CONFIG_T::n_heads * CONFIG_T::head_dim;
    const unsigned p = pos[0].to_uint();
Rows:
    for (unsigned r = 0; r < CONFIG_T::n_rows; r++) {
        detail::rope_row<x_T, res_T, CONFIG_T>(x + r * width, y + r * width, p + r, cos_table, sin_table);
    }
}

// Write row x at pos[0] of the cache (the decode top's static array, max_length x width): one memory
// word. The cache holds x's type exactly; the attention reads it in place.
template <class data_T, class pos_T, typename CONFIG_T>
void kv_cache(const data_T x[CONFIG_T::width], const pos_T pos[1], data_T cache[CONFIG_T::max_length][CONFIG_T::width]) {
    #pragma HLS INLINE off
    #pragma HLS ARRAY_PARTITION variable = x complete
    const unsigned p = pos[0].to_uint();
Write:
    for (unsigned w = 0; w < CONFIG_T::width; w++) {
        #pragma HLS UNROLL
        cache[p][w] = x[w];
    }
}

// hlsgen::scores with the keys read in place from a cache k[n_k][n_kv_heads*key_dim]: one row per
// iteration of Keys (II = 1), every head's dot product with it in parallel.
template <class q_T, class k_T, class res_T, typename CONFIG_T>
void cached_scores(const q_T q[CONFIG_T::n_q * CONFIG_T::n_heads * CONFIG_T::key_dim],
                   const k_T k[CONFIG_T::n_k][CONFIG_T::n_kv_heads * CONFIG_T::key_dim],
                   res_T s[CONFIG_T::n_heads * CONFIG_T::n_q * CONFIG_T::n_k]) {
    #pragma HLS INLINE off
    #pragma HLS ARRAY_PARTITION variable = q complete
    #pragma HLS ARRAY_PARTITION variable = s complete
    static const unsigned group = CONFIG_T::n_heads / CONFIG_T::n_kv_heads;
    static const unsigned q_row = CONFIG_T::n_heads * CONFIG_T::key_dim;
Keys:
    for (unsigned j = 0; j < CONFIG_T::n_k; j++) {
        #pragma HLS PIPELINE II = 1
    Heads:
        for (unsigned h = 0; h < CONFIG_T::n_heads; h++) {
            const unsigned g = h / group;
        Queries:
            for (unsigned i = 0; i < CONFIG_T::n_q; i++) {
                typename CONFIG_T::accum_t acc = 0;
            Dot:
                for (unsigned d = 0; d < CONFIG_T::key_dim; d++) {
                    acc += q[i * q_row + h * CONFIG_T::key_dim + d] * k[j][g * CONFIG_T::key_dim + d];
                }
                scale_cast<CONFIG_T>(acc, s[(h * CONFIG_T::n_q + i) * CONFIG_T::n_k + j]);
            }
        }
    }
}

// hlsgen::context with the values read in place from a cache v[n_k][n_kv_heads*value_dim]: one row per
// iteration of Keys (II = 1) added to every output's accumulator in parallel. The accumulator is exact
// for the whole sum, so for every partial sum too: the same value as hlsgen::context, one cast at the end.
template <class p_T, class v_T, class res_T, typename CONFIG_T>
void cached_context(const p_T p[CONFIG_T::n_heads * CONFIG_T::n_q * CONFIG_T::n_k],
                    const v_T v[CONFIG_T::n_k][CONFIG_T::n_kv_heads * CONFIG_T::value_dim],
                    res_T c[CONFIG_T::n_q * CONFIG_T::n_heads * CONFIG_T::value_dim]) {
    #pragma HLS INLINE off
    #pragma HLS ARRAY_PARTITION variable = p complete
    #pragma HLS ARRAY_PARTITION variable = c complete
    static const unsigned group = CONFIG_T::n_heads / CONFIG_T::n_kv_heads;
    static const unsigned c_row = CONFIG_T::n_heads * CONFIG_T::value_dim;
    typename CONFIG_T::accum_t acc[CONFIG_T::n_q * c_row];
    #pragma HLS ARRAY_PARTITION variable = acc complete
Init:
    for (unsigned o = 0; o < CONFIG_T::n_q * c_row; o++) {
        #pragma HLS UNROLL
        acc[o] = 0;
    }
Keys:
    for (unsigned j = 0; j < CONFIG_T::n_k; j++) {
        #pragma HLS PIPELINE II = 1
    Heads:
        for (unsigned h = 0; h < CONFIG_T::n_heads; h++) {
            const unsigned g = h / group;
        Queries:
            for (unsigned i = 0; i < CONFIG_T::n_q; i++) {
            Dims:
                for (unsigned d = 0; d < CONFIG_T::value_dim; d++) {
                    acc[i * c_row + h * CONFIG_T::value_dim + d] +=
                        p[(h * CONFIG_T::n_q + i) * CONFIG_T::n_k + j] * v[j][g * CONFIG_T::value_dim + d];
                }
            }
        }
    }
Out:
    for (unsigned o = 0; o < CONFIG_T::n_q * c_row; o++) {
        #pragma HLS UNROLL
        c[o] = acc[o];
    }
}

// hlsgen::linear_nobias over the rows of a cache x[n_rows][n_in] (recompute MLA: the up-projection of
// every cached latent), one row per iteration of Rows (II = 1). The output stays a register array.
template <class data_T, class res_T, typename CONFIG_T>
void cached_linear_nobias(const data_T x[CONFIG_T::n_rows][CONFIG_T::n_in],
                          res_T y[CONFIG_T::n_rows * CONFIG_T::n_out],
                          const typename CONFIG_T::weight_t w[CONFIG_T::n_in * CONFIG_T::n_out]) {
    #pragma HLS INLINE off
    #pragma HLS ARRAY_PARTITION variable = w complete
    #pragma HLS ARRAY_PARTITION variable = y complete
Rows:
    for (unsigned r = 0; r < CONFIG_T::n_rows; r++) {
        #pragma HLS PIPELINE II = 1
    Cols:
        for (unsigned o = 0; o < CONFIG_T::n_out; o++) {
            typename CONFIG_T::accum_t acc = 0;
        Dot:
            for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
                acc += x[r][i] * w[i * CONFIG_T::n_out + o];
            }
            y[r * CONFIG_T::n_out + o] = acc;
        }
    }
}

// m[0][j] = (j <= pos[0]): the causal mask of the token at pos[0].
template <class pos_T, class res_T, typename CONFIG_T>
void position_mask(const pos_T pos[1], res_T m[CONFIG_T::max_length]) {
    #pragma HLS INLINE
    const unsigned p = pos[0].to_uint();
    for (unsigned j = 0; j < CONFIG_T::max_length; j++) {
        #pragma HLS UNROLL
        m[j] = (j <= p) ? 1 : 0;
    }
}

// y = x W for a block-diagonal W of n_blocks heads: head b maps inputs [b*bi, (b+1)*bi) to outputs
// [b*bo, (b+1)*bo) with its block w[b*bi + i][o] (only the blocks are stored). The accumulator is exact.
template <class data_T, class res_T, typename CONFIG_T>
void block_linear(const data_T x[CONFIG_T::n_rows * CONFIG_T::n_in], res_T y[CONFIG_T::n_rows * CONFIG_T::n_out],
                  const typename CONFIG_T::weight_t w[CONFIG_T::n_in * CONFIG_T::n_out / CONFIG_T::n_blocks]) {
    #pragma HLS INLINE off
    #pragma HLS PIPELINE II = CONFIG_T::reuse_factor
    #pragma HLS ARRAY_RESHAPE variable = w block factor = CONFIG_T::n_mult
    #pragma HLS ALLOCATION operation instances = mul limit = CONFIG_T::n_mult
    static const unsigned bi = CONFIG_T::n_in / CONFIG_T::n_blocks;
    static const unsigned bo = CONFIG_T::n_out / CONFIG_T::n_blocks;
Rows:
    for (unsigned r = 0; r < CONFIG_T::n_rows; r++) {
    Blocks:
        for (unsigned b = 0; b < CONFIG_T::n_blocks; b++) {
        Cols:
            for (unsigned o = 0; o < bo; o++) {
                typename CONFIG_T::accum_t acc = 0;
            Dot:
                for (unsigned i = 0; i < bi; i++) {
                    acc += x[r * CONFIG_T::n_in + b * bi + i] * w[(b * bi + i) * bo + o];
                }
                y[r * CONFIG_T::n_out + b * bo + o] = acc;
            }
        }
    }
}

// s[h][i][j] = (sum_d qa[i][h*a + d] ka[j][g*a + d] + sum_r qr[i][h*r + r'] kr[j][r']) * scale,
// g = h / (H / a_kv_heads): the two parts of multi-head latent attention, exact, one cast.
template <class qa_T, class ka_T, class qr_T, class kr_T, class res_T, typename CONFIG_T>
void latent_scores(const qa_T qa[CONFIG_T::n_q * CONFIG_T::n_heads * CONFIG_T::a_dim],
                   const ka_T ka[CONFIG_T::n_k * CONFIG_T::a_kv_heads * CONFIG_T::a_dim],
                   const qr_T qr[CONFIG_T::n_q * CONFIG_T::n_heads * CONFIG_T::rope_dim],
                   const kr_T kr[CONFIG_T::n_k * CONFIG_T::rope_dim],
                   res_T s[CONFIG_T::n_heads * CONFIG_T::n_q * CONFIG_T::n_k]) {
    #pragma HLS INLINE off
    #pragma HLS PIPELINE II = CONFIG_T::reuse_factor
    static const unsigned group = CONFIG_T::n_heads / CONFIG_T::a_kv_heads;
    static const unsigned qa_row = CONFIG_T::n_heads * CONFIG_T::a_dim;
    static const unsigned ka_row = CONFIG_T::a_kv_heads * CONFIG_T::a_dim;
    static const unsigned qr_row = CONFIG_T::n_heads * CONFIG_T::rope_dim;
Heads:
    for (unsigned h = 0; h < CONFIG_T::n_heads; h++) {
        const unsigned g = h / group;
    Queries:
        for (unsigned i = 0; i < CONFIG_T::n_q; i++) {
        Keys:
            for (unsigned j = 0; j < CONFIG_T::n_k; j++) {
                typename CONFIG_T::accum_t acc = 0;
            Latent:
                for (unsigned d = 0; d < CONFIG_T::a_dim; d++) {
                    acc += qa[i * qa_row + h * CONFIG_T::a_dim + d] * ka[j * ka_row + g * CONFIG_T::a_dim + d];
                }
            Rope:
                for (unsigned d = 0; d < CONFIG_T::rope_dim; d++) {
                    acc += qr[i * qr_row + h * CONFIG_T::rope_dim + d] * kr[j * CONFIG_T::rope_dim + d];
                }
                scale_cast<CONFIG_T>(acc, s[(h * CONFIG_T::n_q + i) * CONFIG_T::n_k + j]);
            }
        }
    }
}

// hlsgen::latent_scores with keys read in place, one row per iteration of Keys (II = 1). KA_CACHED: the
// latent part ka is a cache ka[n_k][a_kv_heads*a_dim] (absorbed form) rather than a register array
// [n_k * a_kv_heads*a_dim] (recompute form: the up-projected keys); the RoPE key kr is always a cache.
// The two exact sums and the one cast are those of latent_scores.
namespace detail {

// One key row j of the latent scores: inlined into the callers' pipelined loop; the pointers point into
// their arrays (ka_row, kr_row: row j of a cache or of the register array of up-projected keys).
template <class qa_T, class ka_T, class qr_T, class kr_T, class res_T, typename CONFIG_T>
void latent_row(const unsigned j, const qa_T *qa, const ka_T *ka_row, const qr_T *qr, const kr_T *kr_row, res_T *s) {
    #pragma HLS INLINE
    static const unsigned group = CONFIG_T::n_heads / CONFIG_T::a_kv_heads;
    static const unsigned qa_row = CONFIG_T::n_heads * CONFIG_T::a_dim;
    static const unsigned qr_row = CONFIG_T::n_heads * CONFIG_T::rope_dim;
Heads:
    for (unsigned h = 0; h < CONFIG_T::n_heads; h++) {
        const unsigned g = h / group;
    Queries:
        for (unsigned i = 0; i < CONFIG_T::n_q; i++) {
            typename CONFIG_T::accum_t acc = 0;
        Latent:
            for (unsigned d = 0; d < CONFIG_T::a_dim; d++) {
                acc += qa[i * qa_row + h * CONFIG_T::a_dim + d] * ka_row[g * CONFIG_T::a_dim + d];
            }
        Rope:
            for (unsigned d = 0; d < CONFIG_T::rope_dim; d++) {
                acc += qr[i * qr_row + h * CONFIG_T::rope_dim + d] * kr_row[d];
            }
            scale_cast<CONFIG_T>(acc, s[(h * CONFIG_T::n_q + i) * CONFIG_T::n_k + j]);
        }
    }
}

} // namespace detail

// Absorbed form: latent and RoPE key both read in place.
template <class qa_T, class ka_T, class qr_T, class kr_T, class res_T, typename CONFIG_T>
void cached_latent_scores(const qa_T qa[CONFIG_T::n_q * CONFIG_T::n_heads * CONFIG_T::a_dim],
                          const ka_T ka[CONFIG_T::n_k][CONFIG_T::a_kv_heads * CONFIG_T::a_dim],
                          const qr_T qr[CONFIG_T::n_q * CONFIG_T::n_heads * CONFIG_T::rope_dim],
                          const kr_T kr[CONFIG_T::n_k][CONFIG_T::rope_dim],
                          res_T s[CONFIG_T::n_heads * CONFIG_T::n_q * CONFIG_T::n_k]) {
    #pragma HLS INLINE off
    #pragma HLS ARRAY_PARTITION variable = qa complete
    #pragma HLS ARRAY_PARTITION variable = qr complete
    #pragma HLS ARRAY_PARTITION variable = s complete
Keys:
    for (unsigned j = 0; j < CONFIG_T::n_k; j++) {
        #pragma HLS PIPELINE II = 1
        detail::latent_row<qa_T, ka_T, qr_T, kr_T, res_T, CONFIG_T>(j, qa, ka[j], qr, kr[j], s);
    }
}

// Recompute form: the up-projected keys ka are a register array; the RoPE key is read in place.
template <class qa_T, class ka_T, class qr_T, class kr_T, class res_T, typename CONFIG_T>
void cached_rope_latent_scores(const qa_T qa[CONFIG_T::n_q * CONFIG_T::n_heads * CONFIG_T::a_dim],
                               const ka_T ka[CONFIG_T::n_k * CONFIG_T::a_kv_heads * CONFIG_T::a_dim],
                               const qr_T qr[CONFIG_T::n_q * CONFIG_T::n_heads * CONFIG_T::rope_dim],
                               const kr_T kr[CONFIG_T::n_k][CONFIG_T::rope_dim],
                               res_T s[CONFIG_T::n_heads * CONFIG_T::n_q * CONFIG_T::n_k]) {
    #pragma HLS INLINE off
    #pragma HLS ARRAY_PARTITION variable = qa complete
    #pragma HLS ARRAY_PARTITION variable = ka complete
    #pragma HLS ARRAY_PARTITION variable = qr complete
    #pragma HLS ARRAY_PARTITION variable = s complete
    static const unsigned ka_row = CONFIG_T::a_kv_heads * CONFIG_T::a_dim;
Keys:
    for (unsigned j = 0; j < CONFIG_T::n_k; j++) {
        #pragma HLS PIPELINE II = 1
        detail::latent_row<qa_T, ka_T, qr_T, kr_T, res_T, CONFIG_T>(j, qa, ka + j * ka_row, qr, kr[j], s);
    }
}

} // namespace hlsgen

#endif
