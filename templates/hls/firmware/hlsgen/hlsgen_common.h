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

// ceil(log2(n)) at compile time (address widths).
template <unsigned n> struct clog2 {
    static const unsigned value = 1 + clog2<(n + 1) / 2>::value;
};
template <> struct clog2<1> { static const unsigned value = 0; };
template <> struct clog2<0> { static const unsigned value = 0; };

} // namespace hlsgen

#endif
