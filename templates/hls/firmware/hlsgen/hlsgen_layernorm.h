// hlsgen primitive: layer normalisation over the last axis of x[n_rows][n_feat].
//
//   mean = (sum x) * (1/D)            exact sum; 1/D an exact shift (D a power of 2) or a rounded constant
//   xc   = x - mean                   exact
//   var  = (sum xc^2) * (1/D)         exact sum of squares, cast to var_t
//   p    = leading one of var (raw bits); below 2^mant_bits the raw variance addresses segment 0
//          directly (k = k_sub), else seg = p - mant_bits + 1, mant = the mant_bits bits below p and
//          k = ceil((p - var_frac) / 2), like floating point with subnormals
//   1/sqrt(var + eps) ~= table[seg * 2^mant_bits + mant] * 2^-k
//   y    = gamma * cast<norm_t>((xc * table[...]) >> k) + beta, cast to res_T
//
// The table (eps folded in) is computed by hlsgen (inv_sqrt_table in hlsgen/ir/ops/layernorm.py); every
// other step is exact integer arithmetic or a cast that the NumPy reference performs the same way.
#ifndef HLSGEN_LAYERNORM_H_
#define HLSGEN_LAYERNORM_H_

#include "hlsgen_common.h"

namespace hlsgen {

template <class data_T, class res_T, typename CONFIG_T>
void layernorm(const data_T x[CONFIG_T::n_rows * CONFIG_T::n_feat], res_T y[CONFIG_T::n_rows * CONFIG_T::n_feat],
               const typename CONFIG_T::table_t inv_sqrt_table[CONFIG_T::table_size],
               const typename CONFIG_T::weight_t gamma[CONFIG_T::n_feat],
               const typename CONFIG_T::bias_t beta[CONFIG_T::n_feat]) {
    #pragma HLS INLINE off
    #pragma HLS PIPELINE II = CONFIG_T::reuse_factor
    #pragma HLS ARRAY_PARTITION variable = gamma complete
    #pragma HLS ARRAY_PARTITION variable = beta complete
    const typename CONFIG_T::scale_t scale = CONFIG_T::scale;
Rows:
    for (unsigned r = 0; r < CONFIG_T::n_rows; r++) {
        typename CONFIG_T::sum_t s = 0;
    Sum:
        for (unsigned d = 0; d < CONFIG_T::n_feat; d++) {
            s += x[r * CONFIG_T::n_feat + d];
        }
        const typename CONFIG_T::mean_t mean = s * scale;
        typename CONFIG_T::diff_t xc[CONFIG_T::n_feat];
        #pragma HLS ARRAY_PARTITION variable = xc complete
        typename CONFIG_T::sq_t ss = 0;
    Squares:
        for (unsigned d = 0; d < CONFIG_T::n_feat; d++) {
            xc[d] = x[r * CONFIG_T::n_feat + d] - mean;
            ss += CONFIG_T::square_t::template product<typename CONFIG_T::sq_t>(xc[d], xc[d]);
        }
        const typename CONFIG_T::var_t var = ss * scale;
        const ap_uint<CONFIG_T::var_width> v = var.range(CONFIG_T::var_width - 1, 0);
        int p = 0;
    LeadingOne:
        for (int b = 1; b < CONFIG_T::var_width; b++) {
            #pragma HLS UNROLL
            if (v[b]) p = b;
        }
        const bool normal = p >= CONFIG_T::mant_bits;
        const ap_uint<CONFIG_T::var_width> vs = v >> (normal ? p - CONFIG_T::mant_bits : 0);
        const ap_uint<CONFIG_T::mant_bits> mant = vs.range(CONFIG_T::mant_bits - 1, 0);
        const unsigned seg = normal ? p - CONFIG_T::mant_bits + 1 : 0;
        const int e = p - CONFIG_T::var_frac;
        const int k = normal ? (e >= 0 ? (e + 1) / 2 : -((-e) / 2)) : CONFIG_T::k_sub; // ceil(e / 2)
        const typename CONFIG_T::table_t inv = inv_sqrt_table[seg * (1u << CONFIG_T::mant_bits) + mant];
    Scale:
        for (unsigned d = 0; d < CONFIG_T::n_feat; d++) {
            typename CONFIG_T::wide_t w = CONFIG_T::scale_product_t::template product<typename CONFIG_T::wide_t>(xc[d], inv);
            w = w >> k;
            const typename CONFIG_T::norm_t n = w;
            y[r * CONFIG_T::n_feat + d] = n * gamma[d] + beta[d];
        }
    }
}

} // namespace hlsgen

#endif
