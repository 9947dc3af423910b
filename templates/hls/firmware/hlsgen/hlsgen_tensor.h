// hlsgen primitives: typed constants, broadcast element-wise arithmetic, concatenation, slices,
// transposes, max pooling over tokens, per-feature affine (BatchNormalization) and embedding lookups.
// Sums and products are exact ap_fixed expressions; the one rounding is the assignment to res_T, as in
// the NumPy reference (hlsgen.ir.ops.tensor).
#ifndef HLSGEN_TENSOR_H_
#define HLSGEN_TENSOR_H_

#include "hlsgen_common.h"

namespace hlsgen {

// y = a constant parameter (a position table, a class token).
template <class res_T, typename CONFIG_T>
void constant(res_T y[CONFIG_T::n_elem], const res_T c[CONFIG_T::n_elem]) {
    #pragma HLS INLINE
    for (unsigned i = 0; i < CONFIG_T::n_elem; i++) {
        #pragma HLS UNROLL
        y[i] = c[i];
    }
}

// Index of element (r, c) of an operand of a_rows x a_cols broadcast to n_rows x n_cols (each 1 or full).
template <unsigned rows, unsigned cols>
inline unsigned bcast_index(unsigned r, unsigned c) {
    #pragma HLS INLINE
    return (rows == 1 ? 0 : r) * cols + (cols == 1 ? 0 : c);
}

// y = a op b (op 0: +, 1: -, 2: *), exact in ap_fixed, one cast to res_T; either operand may broadcast.
// A product is bound by CONFIG_T::product_t (hlsgen_common.h: auto, or lut / dsp under the latency strategy).
template <class data_T, class data2_T, class res_T, typename CONFIG_T>
void binary(const data_T a[CONFIG_T::a_rows * CONFIG_T::a_cols], const data2_T b[CONFIG_T::b_rows * CONFIG_T::b_cols],
            res_T y[CONFIG_T::n_rows * CONFIG_T::n_cols]) {
    #pragma HLS INLINE
    for (unsigned r = 0; r < CONFIG_T::n_rows; r++) {
        #pragma HLS UNROLL
        for (unsigned c = 0; c < CONFIG_T::n_cols; c++) {
            #pragma HLS UNROLL
            const data_T x = a[bcast_index<CONFIG_T::a_rows, CONFIG_T::a_cols>(r, c)];
            const data2_T z = b[bcast_index<CONFIG_T::b_rows, CONFIG_T::b_cols>(r, c)];
            if (CONFIG_T::op == 0) y[r * CONFIG_T::n_cols + c] = x + z;
            else if (CONFIG_T::op == 1) y[r * CONFIG_T::n_cols + c] = x - z;
            else y[r * CONFIG_T::n_cols + c] = CONFIG_T::product_t::template product<res_T>(x, z);
        }
    }
}

// y[o] = a[o] ++ b[o] for each of n_outer rows (a row of a holds n_a elements, of b n_b).
template <class data_T, class data2_T, class res_T, typename CONFIG_T>
void concat(const data_T a[CONFIG_T::n_outer * CONFIG_T::n_a], const data2_T b[CONFIG_T::n_outer * CONFIG_T::n_b],
            res_T y[CONFIG_T::n_outer * (CONFIG_T::n_a + CONFIG_T::n_b)]) {
    #pragma HLS INLINE
    for (unsigned o = 0; o < CONFIG_T::n_outer; o++) {
        #pragma HLS UNROLL
        for (unsigned i = 0; i < CONFIG_T::n_a; i++) {
            #pragma HLS UNROLL
            y[o * (CONFIG_T::n_a + CONFIG_T::n_b) + i] = a[o * CONFIG_T::n_a + i];
        }
        for (unsigned i = 0; i < CONFIG_T::n_b; i++) {
            #pragma HLS UNROLL
            y[o * (CONFIG_T::n_a + CONFIG_T::n_b) + CONFIG_T::n_a + i] = b[o * CONFIG_T::n_b + i];
        }
    }
}

// Elements start .. start + n_take - 1 of the middle axis of x[n_outer][n_axis][n_inner].
template <class data_T, class res_T, typename CONFIG_T>
void slice(const data_T x[CONFIG_T::n_outer * CONFIG_T::n_axis * CONFIG_T::n_inner],
           res_T y[CONFIG_T::n_outer * CONFIG_T::n_take * CONFIG_T::n_inner]) {
    #pragma HLS INLINE
    for (unsigned o = 0; o < CONFIG_T::n_outer; o++) {
        #pragma HLS UNROLL
        for (unsigned k = 0; k < CONFIG_T::n_take; k++) {
            #pragma HLS UNROLL
            for (unsigned i = 0; i < CONFIG_T::n_inner; i++) {
                #pragma HLS UNROLL
                y[(o * CONFIG_T::n_take + k) * CONFIG_T::n_inner + i] =
                    x[(o * CONFIG_T::n_axis + CONFIG_T::start + k) * CONFIG_T::n_inner + i];
            }
        }
    }
}

// Output element (i0, i1, i2, i3) of dims d0..d3 reads input element i0*s0 + i1*s1 + i2*s2 + i3*s3.
template <class data_T, class res_T, typename CONFIG_T>
void transpose(const data_T x[CONFIG_T::n_elem], res_T y[CONFIG_T::n_elem]) {
    #pragma HLS INLINE
    unsigned k = 0;
    for (unsigned i0 = 0; i0 < CONFIG_T::d0; i0++) {
        for (unsigned i1 = 0; i1 < CONFIG_T::d1; i1++) {
            for (unsigned i2 = 0; i2 < CONFIG_T::d2; i2++) {
                for (unsigned i3 = 0; i3 < CONFIG_T::d3; i3++) {
                    #pragma HLS UNROLL
                    y[k++] = x[i0 * CONFIG_T::s0 + i1 * CONFIG_T::s1 + i2 * CONFIG_T::s2 + i3 * CONFIG_T::s3];
                }
            }
        }
    }
}

// Maximum over tokens of x[n_tokens][n_feat].
template <class data_T, class res_T, typename CONFIG_T>
void global_max_pool(const data_T x[CONFIG_T::n_tokens * CONFIG_T::n_feat], res_T y[CONFIG_T::n_feat]) {
    #pragma HLS INLINE off
    #pragma HLS PIPELINE
    for (unsigned j = 0; j < CONFIG_T::n_feat; j++) {
        data_T m = x[j];
        for (unsigned t = 1; t < CONFIG_T::n_tokens; t++) {
            if (x[t * CONFIG_T::n_feat + j] > m) m = x[t * CONFIG_T::n_feat + j];
        }
        y[j] = m;
    }
}

// y = x * scale[j] + shift[j] per feature j of the last axis (exact, one cast).
template <class data_T, class res_T, typename CONFIG_T>
void batchnorm(const data_T x[CONFIG_T::n_rows * CONFIG_T::n_feat], res_T y[CONFIG_T::n_rows * CONFIG_T::n_feat],
               const typename CONFIG_T::weight_t scale[CONFIG_T::n_feat],
               const typename CONFIG_T::bias_t shift[CONFIG_T::n_feat]) {
    #pragma HLS INLINE off
    #pragma HLS PIPELINE
    for (unsigned r = 0; r < CONFIG_T::n_rows; r++) {
        for (unsigned j = 0; j < CONFIG_T::n_feat; j++) {
            y[r * CONFIG_T::n_feat + j] = x[r * CONFIG_T::n_feat + j] * scale[j] + shift[j];
        }
    }
}

// Row x[t] of the table for each token id; an id outside the vocabulary gives zeros.
template <class data_T, class res_T, typename CONFIG_T>
void embedding(const data_T x[CONFIG_T::n_tokens], res_T y[CONFIG_T::n_tokens * CONFIG_T::n_dim],
               const typename CONFIG_T::table_t table[CONFIG_T::n_vocab * CONFIG_T::n_dim]) {
    #pragma HLS INLINE off
    #pragma HLS PIPELINE
    for (unsigned t = 0; t < CONFIG_T::n_tokens; t++) {
        const unsigned long long id = x[t].to_uint64();
        for (unsigned d = 0; d < CONFIG_T::n_dim; d++) {
            if (id < CONFIG_T::n_vocab) y[t * CONFIG_T::n_dim + d] = table[id * CONFIG_T::n_dim + d];
            else y[t * CONFIG_T::n_dim + d] = 0;
        }
    }
}

} // namespace hlsgen

#endif
