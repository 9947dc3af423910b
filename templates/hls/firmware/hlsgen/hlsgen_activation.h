// hlsgen primitives: element-wise casts, relu, table activations, residual add, token pooling.
#ifndef HLSGEN_ACTIVATION_H_
#define HLSGEN_ACTIVATION_H_

#include "hlsgen_common.h"

namespace hlsgen {

template <class data_T, class res_T, typename CONFIG_T>
void cast(const data_T x[CONFIG_T::n_elem], res_T y[CONFIG_T::n_elem]) {
    #pragma HLS INLINE
    for (unsigned i = 0; i < CONFIG_T::n_elem; i++) {
        #pragma HLS UNROLL
        y[i] = x[i];
    }
}

template <class data_T, class res_T, typename CONFIG_T>
void relu(const data_T x[CONFIG_T::n_elem], res_T y[CONFIG_T::n_elem]) {
    #pragma HLS INLINE
    for (unsigned i = 0; i < CONFIG_T::n_elem; i++) {
        #pragma HLS UNROLL
        if (x[i] > 0) y[i] = x[i];
        else y[i] = 0;
    }
}

// The table covers the input type's whole range; its address is the input's top table_bits bits in
// offset binary (the sign bit inverted for signed inputs).
template <class data_T, class res_T, typename CONFIG_T>
void table_activation(const data_T x[CONFIG_T::n_elem], res_T y[CONFIG_T::n_elem],
                      const typename CONFIG_T::table_t table[1 << CONFIG_T::table_bits]) {
    #pragma HLS INLINE off
    #pragma HLS PIPELINE II = CONFIG_T::reuse_factor
    for (unsigned i = 0; i < CONFIG_T::n_elem; i++) {
        ap_uint<CONFIG_T::table_bits> idx = x[i].range(CONFIG_T::in_width - 1, CONFIG_T::in_width - CONFIG_T::table_bits);
        if (CONFIG_T::in_signed) idx[CONFIG_T::table_bits - 1] = !idx[CONFIG_T::table_bits - 1];
        y[i] = table[idx];
    }
}

template <class data_T, class data2_T, class res_T, typename CONFIG_T>
void add(const data_T a[CONFIG_T::n_elem], const data2_T b[CONFIG_T::n_elem], res_T y[CONFIG_T::n_elem]) {
    #pragma HLS INLINE
    for (unsigned i = 0; i < CONFIG_T::n_elem; i++) {
        #pragma HLS UNROLL
        y[i] = a[i] + b[i];
    }
}

// Mean over tokens of x[n_tokens][n_feat]: an exact sum, times 1/n_tokens (a shift when a power of 2).
template <class data_T, class res_T, typename CONFIG_T>
void global_avg_pool(const data_T x[CONFIG_T::n_tokens * CONFIG_T::n_feat], res_T y[CONFIG_T::n_feat]) {
    #pragma HLS INLINE off
    #pragma HLS PIPELINE
    const typename CONFIG_T::scale_t scale = CONFIG_T::scale;
    for (unsigned j = 0; j < CONFIG_T::n_feat; j++) {
        typename CONFIG_T::sum_t s = 0;
        for (unsigned t = 0; t < CONFIG_T::n_tokens; t++) {
            s += x[t * CONFIG_T::n_feat + j];
        }
        y[j] = s * scale;
    }
}

} // namespace hlsgen

#endif
