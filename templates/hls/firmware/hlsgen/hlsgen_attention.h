// hlsgen primitives of attention: scaled scores, masks, probability-weighted context.
//
// Layouts: q[Tq][H*dk] and k[Tk][Hkv*dk], v[Tk][Hkv*dv] with head-major columns (column h*d + j);
// scores and probabilities [H][Tq][Tk]; context [Tq][H*dv]; a mask [Tq][Tk] of ap_uint<1>, 1 = attend.
// Query head h reads key/value head h / (H / Hkv) (grouped-query attention; Hkv = 1 is multi-query).
//
// Exactness: accum_t is chosen by hlsgen wide enough for every sum the input types allow, so each dot
// product is exact. A power-of-two scale is folded into the fractional bits (the accumulator's bits
// read as shifted_t: wiring, no multiplier); any other scale is one multiplication by scale_t, whose
// ap_fixed product type is exact. The only rounding is the final assignment to res_T, which hlsgen's
// NumPy reference performs identically.
#ifndef HLSGEN_ATTENTION_H_
#define HLSGEN_ATTENTION_H_

#include "hlsgen_common.h"

namespace hlsgen {

// s[h][i][j] = (sum_d q[i][h*dk + d] * k[j][g*dk + d]) * scale, g = h / (H / Hkv)
template <class q_T, class k_T, class res_T, typename CONFIG_T>
void scores(const q_T q[CONFIG_T::n_q * CONFIG_T::n_heads * CONFIG_T::key_dim],
            const k_T k[CONFIG_T::n_k * CONFIG_T::n_kv_heads * CONFIG_T::key_dim],
            res_T s[CONFIG_T::n_heads * CONFIG_T::n_q * CONFIG_T::n_k]) {
    #pragma HLS INLINE off
    #pragma HLS PIPELINE II = CONFIG_T::reuse_factor
    #pragma HLS ARRAY_PARTITION variable = q complete
    #pragma HLS ARRAY_PARTITION variable = k complete
    #pragma HLS ARRAY_PARTITION variable = s complete
    #pragma HLS ALLOCATION operation instances = mul limit = CONFIG_T::n_mult
    static const unsigned group = CONFIG_T::n_heads / CONFIG_T::n_kv_heads;
    static const unsigned q_row = CONFIG_T::n_heads * CONFIG_T::key_dim;
    static const unsigned k_row = CONFIG_T::n_kv_heads * CONFIG_T::key_dim;
Heads:
    for (unsigned h = 0; h < CONFIG_T::n_heads; h++) {
        const unsigned g = h / group;
    Queries:
        for (unsigned i = 0; i < CONFIG_T::n_q; i++) {
        Keys:
            for (unsigned j = 0; j < CONFIG_T::n_k; j++) {
                typename CONFIG_T::accum_t acc = 0;
            Dot:
                for (unsigned d = 0; d < CONFIG_T::key_dim; d++) {
                    acc += CONFIG_T::product_t::template product<typename CONFIG_T::accum_t>(
                        q[i * q_row + h * CONFIG_T::key_dim + d], k[j * k_row + g * CONFIG_T::key_dim + d]);
                }
                scale_cast<CONFIG_T>(acc, s[(h * CONFIG_T::n_q + i) * CONFIG_T::n_k + j]);
            }
        }
    }
}

// m[i][j] = (j <= i + offset): a constant, no inputs.
template <class res_T, typename CONFIG_T>
void mask_causal(res_T m[CONFIG_T::n_q * CONFIG_T::n_k]) {
    #pragma HLS INLINE
    #pragma HLS ARRAY_PARTITION variable = m complete
    for (int i = 0; i < CONFIG_T::n_q; i++) {
        #pragma HLS UNROLL
        for (int j = 0; j < CONFIG_T::n_k; j++) {
            #pragma HLS UNROLL
            m[i * CONFIG_T::n_k + j] = (j <= i + CONFIG_T::offset) ? 1 : 0;
        }
    }
}

// m[i][j] = (x[i][j] != 0) && (!causal || j <= i + offset)
template <class data_T, class res_T, typename CONFIG_T>
void mask_input(const data_T x[CONFIG_T::n_q * CONFIG_T::n_k], res_T m[CONFIG_T::n_q * CONFIG_T::n_k]) {
    #pragma HLS INLINE
    #pragma HLS ARRAY_PARTITION variable = x complete
    #pragma HLS ARRAY_PARTITION variable = m complete
    for (int i = 0; i < CONFIG_T::n_q; i++) {
        #pragma HLS UNROLL
        for (int j = 0; j < CONFIG_T::n_k; j++) {
            #pragma HLS UNROLL
            const bool keep = !CONFIG_T::causal || (j <= i + CONFIG_T::offset);
            m[i * CONFIG_T::n_k + j] = (keep && x[i * CONFIG_T::n_k + j] != 0) ? 1 : 0;
        }
    }
}

// c[i][h*dv + d] = sum_j p[h][i][j] * v[j][g*dv + d], g = h / (H / Hkv)
template <class p_T, class v_T, class res_T, typename CONFIG_T>
void context(const p_T p[CONFIG_T::n_heads * CONFIG_T::n_q * CONFIG_T::n_k],
             const v_T v[CONFIG_T::n_k * CONFIG_T::n_kv_heads * CONFIG_T::value_dim],
             res_T c[CONFIG_T::n_q * CONFIG_T::n_heads * CONFIG_T::value_dim]) {
    #pragma HLS INLINE off
    #pragma HLS PIPELINE II = CONFIG_T::reuse_factor
    #pragma HLS ARRAY_PARTITION variable = p complete
    #pragma HLS ARRAY_PARTITION variable = v complete
    #pragma HLS ARRAY_PARTITION variable = c complete
    #pragma HLS ALLOCATION operation instances = mul limit = CONFIG_T::n_mult
    static const unsigned group = CONFIG_T::n_heads / CONFIG_T::n_kv_heads;
    static const unsigned v_row = CONFIG_T::n_kv_heads * CONFIG_T::value_dim;
    static const unsigned c_row = CONFIG_T::n_heads * CONFIG_T::value_dim;
Heads:
    for (unsigned h = 0; h < CONFIG_T::n_heads; h++) {
        const unsigned g = h / group;
    Queries:
        for (unsigned i = 0; i < CONFIG_T::n_q; i++) {
        Dims:
            for (unsigned d = 0; d < CONFIG_T::value_dim; d++) {
                typename CONFIG_T::accum_t acc = 0;
            Keys:
                for (unsigned j = 0; j < CONFIG_T::n_k; j++) {
                    acc += CONFIG_T::product_t::template product<typename CONFIG_T::accum_t>(
                        p[(h * CONFIG_T::n_q + i) * CONFIG_T::n_k + j], v[j * v_row + g * CONFIG_T::value_dim + d]);
                }
                c[i * c_row + h * CONFIG_T::value_dim + d] = acc;
            }
        }
    }
}

} // namespace hlsgen

#endif
