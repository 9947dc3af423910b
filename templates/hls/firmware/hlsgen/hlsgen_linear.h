// hlsgen primitive: y = x W + b over the last axis, for n_rows rows (Dense, Q/K/V/output projections).
// The accumulator type is exact by construction (chosen by hlsgen from the actual weights), so the
// only rounding is the final cast to res_T: the NumPy reference computes the same integers.
#ifndef HLSGEN_LINEAR_H_
#define HLSGEN_LINEAR_H_

#include "hlsgen_common.h"

namespace hlsgen {

template <class data_T, class res_T, typename CONFIG_T>
void linear(const data_T x[CONFIG_T::n_rows * CONFIG_T::n_in], res_T y[CONFIG_T::n_rows * CONFIG_T::n_out],
            const typename CONFIG_T::weight_t w[CONFIG_T::n_in * CONFIG_T::n_out],
            const typename CONFIG_T::bias_t b[CONFIG_T::n_out]) {
    #pragma HLS INLINE off
    #pragma HLS PIPELINE II = CONFIG_T::reuse_factor
    #pragma HLS ARRAY_RESHAPE variable = w block factor = CONFIG_T::n_mult
    #pragma HLS ARRAY_PARTITION variable = b complete
    #pragma HLS ALLOCATION operation instances = mul limit = CONFIG_T::n_mult
Rows:
    for (unsigned r = 0; r < CONFIG_T::n_rows; r++) {
    Cols:
        for (unsigned o = 0; o < CONFIG_T::n_out; o++) {
            typename CONFIG_T::accum_t acc = b[o];
        Dot:
            for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
                acc += CONFIG_T::product_t::template product<typename CONFIG_T::accum_t>(x[r * CONFIG_T::n_in + i],
                                                                             w[i * CONFIG_T::n_out + o]);
            }
            y[r * CONFIG_T::n_out + o] = acc;
        }
    }
}

template <class data_T, class res_T, typename CONFIG_T>
void linear_nobias(const data_T x[CONFIG_T::n_rows * CONFIG_T::n_in],
                   res_T y[CONFIG_T::n_rows * CONFIG_T::n_out],
                   const typename CONFIG_T::weight_t w[CONFIG_T::n_in * CONFIG_T::n_out]) {
    #pragma HLS INLINE off
    #pragma HLS PIPELINE II = CONFIG_T::reuse_factor
    #pragma HLS ARRAY_RESHAPE variable = w block factor = CONFIG_T::n_mult
    #pragma HLS ALLOCATION operation instances = mul limit = CONFIG_T::n_mult
Rows:
    for (unsigned r = 0; r < CONFIG_T::n_rows; r++) {
    Cols:
        for (unsigned o = 0; o < CONFIG_T::n_out; o++) {
            typename CONFIG_T::accum_t acc = 0;
        Dot:
            for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
                acc += CONFIG_T::product_t::template product<typename CONFIG_T::accum_t>(x[r * CONFIG_T::n_in + i],
                                                                             w[i * CONFIG_T::n_out + o]);
            }
            y[r * CONFIG_T::n_out + o] = acc;
        }
    }
}

} // namespace hlsgen

#endif
