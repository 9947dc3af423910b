// hlsgen primitive: Conv1D over tokens (stride 1): y[t][f] = b[f] + sum_k sum_c x[t+k-pad_left][c] w[k][c][f],
// zeros outside the sequence. The accumulator type is exact by construction, as in hlsgen_linear.h.
#ifndef HLSGEN_CONV_H_
#define HLSGEN_CONV_H_

#include "hlsgen_common.h"

namespace hlsgen {

template <class data_T, typename CONFIG_T>
typename CONFIG_T::accum_t conv1d_dot(const data_T x[CONFIG_T::n_tokens_in * CONFIG_T::n_chan],
                                      const typename CONFIG_T::weight_t w[CONFIG_T::kernel_size * CONFIG_T::n_chan * CONFIG_T::n_filt],
                                      typename CONFIG_T::accum_t acc, unsigned t, unsigned f) {
    #pragma HLS INLINE
Taps:
    for (unsigned k = 0; k < CONFIG_T::kernel_size; k++) {
        const int src = int(t + k) - CONFIG_T::pad_left;
        if (src < 0 || src >= int(CONFIG_T::n_tokens_in)) continue;
    Chan:
        for (unsigned c = 0; c < CONFIG_T::n_chan; c++) {
            acc += CONFIG_T::product_t::template product<typename CONFIG_T::accum_t>(
                x[src * CONFIG_T::n_chan + c], w[(k * CONFIG_T::n_chan + c) * CONFIG_T::n_filt + f]);
        }
    }
    return acc;
}

template <class data_T, class res_T, typename CONFIG_T>
void conv1d(const data_T x[CONFIG_T::n_tokens_in * CONFIG_T::n_chan], res_T y[CONFIG_T::n_tokens_out * CONFIG_T::n_filt],
            const typename CONFIG_T::weight_t w[CONFIG_T::kernel_size * CONFIG_T::n_chan * CONFIG_T::n_filt],
            const typename CONFIG_T::bias_t b[CONFIG_T::n_filt]) {
    #pragma HLS INLINE off
    #pragma HLS PIPELINE II = CONFIG_T::reuse_factor
    #pragma HLS ALLOCATION operation instances = mul limit = CONFIG_T::n_mult
    for (unsigned t = 0; t < CONFIG_T::n_tokens_out; t++) {
        for (unsigned f = 0; f < CONFIG_T::n_filt; f++) {
            typename CONFIG_T::accum_t acc = b[f];
            y[t * CONFIG_T::n_filt + f] = conv1d_dot<data_T, CONFIG_T>(x, w, acc, t, f);
        }
    }
}

template <class data_T, class res_T, typename CONFIG_T>
void conv1d_nobias(const data_T x[CONFIG_T::n_tokens_in * CONFIG_T::n_chan],
                   res_T y[CONFIG_T::n_tokens_out * CONFIG_T::n_filt],
                   const typename CONFIG_T::weight_t w[CONFIG_T::kernel_size * CONFIG_T::n_chan * CONFIG_T::n_filt]) {
    #pragma HLS INLINE off
    #pragma HLS PIPELINE II = CONFIG_T::reuse_factor
    #pragma HLS ALLOCATION operation instances = mul limit = CONFIG_T::n_mult
    for (unsigned t = 0; t < CONFIG_T::n_tokens_out; t++) {
        for (unsigned f = 0; f < CONFIG_T::n_filt; f++) {
            typename CONFIG_T::accum_t acc = 0;
            y[t * CONFIG_T::n_filt + f] = conv1d_dot<data_T, CONFIG_T>(x, w, acc, t, f);
        }
    }
}

} // namespace hlsgen

#endif
