// hlsgen primitives: common helpers. Hand-written, read like a library; the generated code only holds
// config structs, weights and calls. Only constructs Vitis HLS synthesises: static arrays, constant loop
// bounds, no dynamic memory.
#ifndef HLSGEN_COMMON_H_
#define HLSGEN_COMMON_H_

#include "ap_fixed.h"
#include "ap_int.h"

namespace hlsgen {

// Number of multipliers a loop of n_mac multiply-accumulates may use under a reuse factor.
template <unsigned n_mac, unsigned reuse> struct mult_limit {
    static const unsigned value = (n_mac + reuse - 1) / reuse;
};

// How a product is bound in hardware: the config struct's product_t (a Dense's products of the data and
// its constant weights) or its square_t / scale_product_t (data-dependent products: attention's Q K^T and
// P V, the layer norm's squares and (x - mean) x 1/sqrt) is one of these. product_auto leaves the choice
// to Vitis HLS (the resource strategy); under the latency strategy hlsgen's typing chose lut or dsp for
// each op (its layer's `multiplier`, `auto` resolved by the cost model the RTL builds with):
// product_lut binds the multiplication to fabric (LUTs: a product by a constant weight becomes shifts and
// adds), product_dsp to a DSP slice. BIND_OP names the product itself (`auto p`, the exact ap_fixed
// product type), so no conversion sits between the multiplier and its binding; the value is the exact
// product converted to R either way.
struct product_auto {
    template <class R, class A, class B> static R product(A a, B b) {
        #pragma HLS INLINE
        return R(a * b);
    }
};
struct product_lut {
    template <class R, class A, class B> static R product(A a, B b) {
        #pragma HLS INLINE
        auto p = a * b;
        #pragma HLS BIND_OP variable = p op = mul impl = fabric
        return R(p);
    }
};
struct product_dsp {
    template <class R, class A, class B> static R product(A a, B b) {
        #pragma HLS INLINE
        auto p = a * b;
        #pragma HLS BIND_OP variable = p op = mul impl = dsp
        return R(p);
    }
};

// ceil(log2(n)) at compile time (address widths).
template <unsigned n> struct clog2 {
    static const unsigned value = 1 + clog2<(n + 1) / 2>::value;
};
template <> struct clog2<1> { static const unsigned value = 0; };
template <> struct clog2<0> { static const unsigned value = 0; };

// s = acc * scale, one cast to res_T: the score scale of hlsgen's ScaledScores ops. A power-of-two scale
// reads the exact accumulator's bits as shifted_t (wiring, no multiplier); any other scale is one
// multiplication by scale_t, whose ap_fixed product type is exact. CONFIG_T: accum_t, accum_width,
// shifted_t, scale_t, scale, scale_is_shift.
template <typename CONFIG_T, class res_T>
void scale_cast(const typename CONFIG_T::accum_t acc, res_T &s) {
    #pragma HLS INLINE
    const typename CONFIG_T::scale_t scale = CONFIG_T::scale; // a compile-time constant, exact
    if (CONFIG_T::scale_is_shift) {
        typename CONFIG_T::shifted_t t;
        t.range(CONFIG_T::accum_width - 1, 0) = acc.range(CONFIG_T::accum_width - 1, 0);
        s = t;
    } else {
        s = acc * scale;
    }
}

} // namespace hlsgen

#endif
