// hlsgen primitives of decoders: rotary position embedding, key/value and latent caches, the decode
// mask, and the two-part scores of multi-head latent attention.
//
// RoPE: in each head, dimensions i and i + rope_dim/2 (i < rope_dim/2) rotate by the angle of the
// token's position; cos/sin come from tables computed by hlsgen (rope_tables in hlsgen/ir/ops/decode.py)
// of table_t. a*c - b*s and b*c + a*s are exact in the ap_fixed result types (sum_t holds them), so the
// only rounding is the one assignment to res_T, as in hlsgen's NumPy reference.
//
// Caches: the decode top function owns one static array per cache (BIND_STORAGE from the config); a
// step writes the token's row at the position and hands every row to the attention that follows. Rows
// past the position are stale; the decode mask gives them probability exactly 0.
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

// Write row x at pos[0] of the cache (max_length x width, the decode top's static array), then copy
// every row out for the attention that follows. The cache holds x's type exactly.
template <class data_T, class pos_T, class res_T, typename CONFIG_T>
void kv_cache(const data_T x[CONFIG_T::width], const pos_T pos[1], data_T cache[CONFIG_T::max_length * CONFIG_T::width],
              res_T y[CONFIG_T::max_length * CONFIG_T::width]) {
    #pragma HLS INLINE off
    const unsigned p = pos[0].to_uint();
Write:
    for (unsigned w = 0; w < CONFIG_T::width; w++) {
        #pragma HLS PIPELINE II = 1
        cache[p * CONFIG_T::width + w] = x[w];
    }
Read:
    for (unsigned i = 0; i < CONFIG_T::max_length * CONFIG_T::width; i++) {
        #pragma HLS PIPELINE II = 1
        y[i] = cache[i];
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

// latent_scores without the RoPE part (rope_dim == 0).
template <class qa_T, class ka_T, class res_T, typename CONFIG_T>
void latent_scores_norope(const qa_T qa[CONFIG_T::n_q * CONFIG_T::n_heads * CONFIG_T::a_dim],
                          const ka_T ka[CONFIG_T::n_k * CONFIG_T::a_kv_heads * CONFIG_T::a_dim],
                          res_T s[CONFIG_T::n_heads * CONFIG_T::n_q * CONFIG_T::n_k]) {
    #pragma HLS INLINE off
    #pragma HLS PIPELINE II = CONFIG_T::reuse_factor
    static const unsigned group = CONFIG_T::n_heads / CONFIG_T::a_kv_heads;
    static const unsigned qa_row = CONFIG_T::n_heads * CONFIG_T::a_dim;
    static const unsigned ka_row = CONFIG_T::a_kv_heads * CONFIG_T::a_dim;
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
                scale_cast<CONFIG_T>(acc, s[(h * CONFIG_T::n_q + i) * CONFIG_T::n_k + j]);
            }
        }
    }
}

} // namespace hlsgen

#endif
