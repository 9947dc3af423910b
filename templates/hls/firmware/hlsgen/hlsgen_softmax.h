// hlsgen primitive: softmax over the last axis of x[n_rows][n_cols], with an optional mask[n_q][n_cols]
// (nonzero = attend) applied to every block of n_q rows. Masked entries give exactly 0 and take no part
// in the maximum or the sum; a fully masked row gives all zeros.
//
// Every table is computed by hlsgen (softmax_tables in hlsgen/ir/ops/softmax.py) and passed in; the
// arithmetic below is exact integer arithmetic plus the casts the NumPy reference performs, so the two
// agree bit for bit. No floating point anywhere.
//
//   stable:  d = max - x (exact, in input LSBs), d' = (d + 2^(drop-1)) >> drop,
//            exp(-d') = exp_hi[d' >> lo_bits] * exp_lo[d' & (2^lo_bits - 1)], 0 when d' >= 2^addr_bits.
//   latency: exp(x) = exp[top table_bits bits of x] (saturates for large logits).
//   both:    S = sum of exp (exact, then cast to sum_t); p = leading one of S;
//            1/S ~= inv[inv_bits bits below the leading one] * 2^-(p - sum_frac);
//            y = (exp * inv) >> (p - sum_frac), cast to res_T.
#ifndef HLSGEN_SOFTMAX_H_
#define HLSGEN_SOFTMAX_H_

#include "hlsgen_common.h"

namespace hlsgen {

namespace detail {

// 1/S for S > 0: inv holds 1/mantissa, shift the power of two (1/S ~= inv * 2^-shift).
template <typename CONFIG_T>
void softmax_reciprocal(const typename CONFIG_T::sum_t s,
                        const typename CONFIG_T::inv_t inv_table[1 << CONFIG_T::inv_bits],
                        typename CONFIG_T::inv_t &inv, int &shift) {
    #pragma HLS INLINE
    ap_uint<CONFIG_T::sum_width> raw = s.range(CONFIG_T::sum_width - 1, 0);
    int p = 0;
LeadingOne:
    for (int b = 1; b < CONFIG_T::sum_width; b++) {
        #pragma HLS UNROLL
        if (raw[b]) p = b;
    }
    ap_uint<CONFIG_T::sum_width + CONFIG_T::inv_bits> m = raw;
    m <<= CONFIG_T::inv_bits;
    m >>= p;
    ap_uint<CONFIG_T::inv_bits> idx = m.range(CONFIG_T::inv_bits - 1, 0);
    inv = inv_table[idx];
    int t = p - CONFIG_T::sum_frac;
    if (t < CONFIG_T::shift_min) t = CONFIG_T::shift_min;
    if (t > CONFIG_T::shift_max) t = CONFIG_T::shift_max;
    shift = t;
}

// Sum, reciprocal and products of one row of exponentials.
template <class res_T, typename CONFIG_T>
void softmax_normalise(const typename CONFIG_T::exp_t e[CONFIG_T::n_cols], res_T y[CONFIG_T::n_cols],
                       const typename CONFIG_T::inv_t inv_table[1 << CONFIG_T::inv_bits]) {
    #pragma HLS INLINE
    typename CONFIG_T::accum_t acc = 0;
Sum:
    for (unsigned c = 0; c < CONFIG_T::n_cols; c++) {
        #pragma HLS UNROLL
        acc += e[c];
    }
    typename CONFIG_T::sum_t s = acc;
    typename CONFIG_T::inv_t inv;
    int shift;
    softmax_reciprocal<CONFIG_T>(s, inv_table, inv, shift);
Scale:
    for (unsigned c = 0; c < CONFIG_T::n_cols; c++) {
        #pragma HLS UNROLL
        typename CONFIG_T::wide_t w = CONFIG_T::product_t::template product<typename CONFIG_T::wide_t>(e[c], inv);
        w = w >> shift;
        if (s == 0) y[c] = 0;
        else y[c] = w;
    }
}

template <bool has_mask, class data_T, class mask_T, class res_T, typename CONFIG_T>
void softmax_stable_impl(const data_T x[CONFIG_T::n_rows * CONFIG_T::n_cols], const mask_T *mask,
                         res_T y[CONFIG_T::n_rows * CONFIG_T::n_cols],
                         const typename CONFIG_T::exp_t exp_hi[1 << CONFIG_T::hi_bits],
                         const typename CONFIG_T::exp_t exp_lo[1 << CONFIG_T::lo_bits],
                         const typename CONFIG_T::inv_t inv_table[1 << CONFIG_T::inv_bits]) {
    #pragma HLS INLINE
    const unsigned half = (1u << CONFIG_T::drop_bits) >> 1;
Rows:
    for (unsigned r = 0; r < CONFIG_T::n_rows; r++) {
        const unsigned q = r % CONFIG_T::n_q;
        bool keep[CONFIG_T::n_cols];
        data_T m = 0;
        bool any = false;
    Max:
        for (unsigned c = 0; c < CONFIG_T::n_cols; c++) {
            keep[c] = has_mask ? (mask[has_mask ? q * CONFIG_T::n_cols + c : 0] != 0) : true;
            const data_T v = x[r * CONFIG_T::n_cols + c];
            if (keep[c] && (!any || v > m)) {
                m = v;
                any = true;
            }
        }
        typename CONFIG_T::exp_t e[CONFIG_T::n_cols];
    Exp:
        for (unsigned c = 0; c < CONFIG_T::n_cols; c++) {
            typename CONFIG_T::diff_t d = m - x[r * CONFIG_T::n_cols + c]; // exact where kept
            ap_uint<CONFIG_T::in_width + 1> dd = d.range(CONFIG_T::in_width - 1, 0);
            dd += half;
            dd >>= CONFIG_T::drop_bits;
            const bool valid = keep[c] && ((dd >> CONFIG_T::addr_bits) == 0);
            ap_uint<CONFIG_T::hi_bits> hi = dd.range(CONFIG_T::addr_bits - 1, CONFIG_T::lo_bits);
            ap_uint<CONFIG_T::lo_bits> lo = dd.range(CONFIG_T::lo_bits - 1, 0);
            typename CONFIG_T::exp_t v = exp_hi[hi] * exp_lo[lo];
            if (valid) e[c] = v;
            else e[c] = 0;
        }
        softmax_normalise<res_T, CONFIG_T>(e, y + r * CONFIG_T::n_cols, inv_table);
    }
}

template <bool has_mask, class data_T, class mask_T, class res_T, typename CONFIG_T>
void softmax_latency_impl(const data_T x[CONFIG_T::n_rows * CONFIG_T::n_cols], const mask_T *mask,
                          res_T y[CONFIG_T::n_rows * CONFIG_T::n_cols],
                          const typename CONFIG_T::exp_t exp_table[1 << CONFIG_T::table_bits],
                          const typename CONFIG_T::inv_t inv_table[1 << CONFIG_T::inv_bits]) {
    #pragma HLS INLINE
Rows:
    for (unsigned r = 0; r < CONFIG_T::n_rows; r++) {
        const unsigned q = r % CONFIG_T::n_q;
        typename CONFIG_T::exp_t e[CONFIG_T::n_cols];
    Exp:
        for (unsigned c = 0; c < CONFIG_T::n_cols; c++) {
            const bool keep = has_mask ? (mask[has_mask ? q * CONFIG_T::n_cols + c : 0] != 0) : true;
            ap_uint<CONFIG_T::table_bits> idx =
                x[r * CONFIG_T::n_cols + c].range(CONFIG_T::in_width - 1, CONFIG_T::in_width - CONFIG_T::table_bits);
            if (CONFIG_T::in_signed) idx[CONFIG_T::table_bits - 1] = !idx[CONFIG_T::table_bits - 1];
            if (keep) e[c] = exp_table[idx];
            else e[c] = 0;
        }
        softmax_normalise<res_T, CONFIG_T>(e, y + r * CONFIG_T::n_cols, inv_table);
    }
}

} // namespace detail

// Stable softmax: subtract the row maximum, exp from two split tables.
template <class data_T, class res_T, typename CONFIG_T>
void softmax_stable(const data_T x[CONFIG_T::n_rows * CONFIG_T::n_cols], res_T y[CONFIG_T::n_rows * CONFIG_T::n_cols],
                    const typename CONFIG_T::exp_t exp_hi[1 << CONFIG_T::hi_bits],
                    const typename CONFIG_T::exp_t exp_lo[1 << CONFIG_T::lo_bits],
                    const typename CONFIG_T::inv_t inv_table[1 << CONFIG_T::inv_bits]) {
    #pragma HLS INLINE off
    #pragma HLS PIPELINE II = CONFIG_T::reuse_factor
    #pragma HLS ARRAY_PARTITION variable = exp_hi complete
    #pragma HLS ARRAY_PARTITION variable = exp_lo complete
    const ap_uint<1> no_mask[1] = {1};
    detail::softmax_stable_impl<false, data_T, ap_uint<1>, res_T, CONFIG_T>(x, no_mask, y, exp_hi, exp_lo, inv_table);
}

template <class data_T, class mask_T, class res_T, typename CONFIG_T>
void softmax_stable_masked(const data_T x[CONFIG_T::n_rows * CONFIG_T::n_cols],
                           const mask_T mask[CONFIG_T::n_q * CONFIG_T::n_cols],
                           res_T y[CONFIG_T::n_rows * CONFIG_T::n_cols],
                           const typename CONFIG_T::exp_t exp_hi[1 << CONFIG_T::hi_bits],
                           const typename CONFIG_T::exp_t exp_lo[1 << CONFIG_T::lo_bits],
                           const typename CONFIG_T::inv_t inv_table[1 << CONFIG_T::inv_bits]) {
    #pragma HLS INLINE off
    #pragma HLS PIPELINE II = CONFIG_T::reuse_factor
    #pragma HLS ARRAY_PARTITION variable = exp_hi complete
    #pragma HLS ARRAY_PARTITION variable = exp_lo complete
    detail::softmax_stable_impl<true, data_T, mask_T, res_T, CONFIG_T>(x, mask, y, exp_hi, exp_lo, inv_table);
}

// Latency softmax: exp of the raw logits from one table, no max search. Overflows for large logits.
template <class data_T, class res_T, typename CONFIG_T>
void softmax_latency(const data_T x[CONFIG_T::n_rows * CONFIG_T::n_cols], res_T y[CONFIG_T::n_rows * CONFIG_T::n_cols],
                     const typename CONFIG_T::exp_t exp_table[1 << CONFIG_T::table_bits],
                     const typename CONFIG_T::inv_t inv_table[1 << CONFIG_T::inv_bits]) {
    #pragma HLS INLINE off
    #pragma HLS PIPELINE II = CONFIG_T::reuse_factor
    const ap_uint<1> no_mask[1] = {1};
    detail::softmax_latency_impl<false, data_T, ap_uint<1>, res_T, CONFIG_T>(x, no_mask, y, exp_table, inv_table);
}

template <class data_T, class mask_T, class res_T, typename CONFIG_T>
void softmax_latency_masked(const data_T x[CONFIG_T::n_rows * CONFIG_T::n_cols],
                            const mask_T mask[CONFIG_T::n_q * CONFIG_T::n_cols],
                            res_T y[CONFIG_T::n_rows * CONFIG_T::n_cols],
                            const typename CONFIG_T::exp_t exp_table[1 << CONFIG_T::table_bits],
                            const typename CONFIG_T::inv_t inv_table[1 << CONFIG_T::inv_bits]) {
    #pragma HLS INLINE off
    #pragma HLS PIPELINE II = CONFIG_T::reuse_factor
    detail::softmax_latency_impl<true, data_T, mask_T, res_T, CONFIG_T>(x, mask, y, exp_table, inv_table);
}

} // namespace hlsgen

#endif
