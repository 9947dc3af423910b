// hlsgen io_stream: tokens on hls::stream between primitives, AXI4-Stream beats at the top.
//
// A tensor of shape (..., D) moves as its rows ("tokens") in row-major order: N / D tokens of D
// elements, one token per stream read. Inside the design a token is hlsgen::token<T, D>; at the top
// every token is one AXI4-Stream beat whose TDATA packs the D elements:
//
//   element d occupies TDATA bits [d*w + w-1 : d*w] (element 0 in the least significant bits), w the
//   element type's width, holding the type's raw bits (two's complement value * 2^F); the bits above
//   D*w, up to TDATA's width (D*w rounded up to whole bytes), are 0. TKEEP and TSTRB are all ones.
//   TLAST is 1 on the last token of a sample (a 1-D tensor is one token: one beat with TLAST).
//
// The Python definition of the same packing is hlsgen.backends.hls.stream.pack_tokens / unpack_tokens.
//
// The adapters here are the simplest correct streaming: stream_op reads whole tensors from its input
// streams into local arrays, runs the io_parallel primitive on them (OP::run) and writes the result
// token by token. A stream that can hold its whole tensor (depth = number of tokens) never blocks a
// producer, so no wiring of these adapters deadlocks.
#ifndef HLSGEN_STREAM_H_
#define HLSGEN_STREAM_H_

#include "hls_stream.h"
#include "hlsgen_common.h"

#if defined(__has_include)
#if __has_include(<ap_axi_sdata.h>)
#define HLSGEN_HAVE_AP_AXI_SDATA 1
#endif
#endif

#ifdef HLSGEN_HAVE_AP_AXI_SDATA
#include "ap_axi_sdata.h"
#endif

#ifndef __SYNTHESIS__
#include <iostream>
#endif

namespace hlsgen {

// One token: the D elements of one row of a tensor.
template <class T, unsigned D> struct token {
    typedef T value_type;
    static const unsigned size = D;
    T data[D];
};

#ifdef HLSGEN_HAVE_AP_AXI_SDATA
// Vitis HLS: its AXI4-Stream packet (TDATA, TKEEP, TSTRB, TLAST side channels).
template <int W> using axis_word = hls::axis<ap_uint<W>, 0, 0, 0>;
#else
// Without ap_axi_sdata.h (the ap_types headers of hls4ml have none): a packet with the same field names.
template <int W> struct axis_word {
    ap_uint<W> data;
    ap_uint<(W + 7) / 8> keep;
    ap_uint<(W + 7) / 8> strb;
    ap_uint<1> last;
};
#endif

// TDATA of one token (the packing above).
template <int WORD, class T, unsigned D> ap_uint<WORD> pack_token(const token<T, D> &tok) {
    #pragma HLS INLINE
    const int w = T::width;
    static_assert(D * w <= WORD, "hlsgen::pack_token: the token is wider than TDATA");
    ap_uint<WORD> word = 0;
    for (unsigned d = 0; d < D; d++) {
        #pragma HLS UNROLL
        word.range(d * w + w - 1, d * w) = tok.data[d].range(w - 1, 0);
    }
    return word;
}

// The token a TDATA word holds (bits above D*w ignored).
template <class T, unsigned D, int WORD> token<T, D> unpack_token(const ap_uint<WORD> &word) {
    #pragma HLS INLINE
    const int w = T::width;
    static_assert(D * w <= WORD, "hlsgen::unpack_token: the token is wider than TDATA");
    token<T, D> tok;
    for (unsigned d = 0; d < D; d++) {
        #pragma HLS UNROLL
        tok.data[d].range(w - 1, 0) = word.range(d * w + w - 1, d * w);
    }
    return tok;
}

// -- whole tensors <-> token streams ------------------------------------------------------------------
template <unsigned N, class T, unsigned D> void read_tensor(hls::stream<token<T, D> > &s, T a[N]) {
    #pragma HLS INLINE
    static_assert(N % D == 0, "hlsgen::read_tensor: N is not a whole number of tokens");
ReadTokens:
    for (unsigned t = 0; t < N / D; t++) {
        #pragma HLS PIPELINE
        token<T, D> tok = s.read();
        for (unsigned d = 0; d < D; d++) {
            #pragma HLS UNROLL
            a[t * D + d] = tok.data[d];
        }
    }
}

template <unsigned N, class T, unsigned D> void write_tensor(const T a[N], hls::stream<token<T, D> > &s) {
    #pragma HLS INLINE
    static_assert(N % D == 0, "hlsgen::write_tensor: N is not a whole number of tokens");
WriteTokens:
    for (unsigned t = 0; t < N / D; t++) {
        #pragma HLS PIPELINE
        token<T, D> tok;
        for (unsigned d = 0; d < D; d++) {
            #pragma HLS UNROLL
            tok.data[d] = a[t * D + d];
        }
        s.write(tok);
    }
}

// -- stream adapters of the io_parallel primitives (OP::run(inputs..., output)) ---------------------
// No input (a constant such as the causal mask): generated inside.
template <class OP, unsigned NY, class y_T, unsigned DY> void stream_op(hls::stream<token<y_T, DY> > &y) {
    #pragma HLS INLINE off
    y_T ay[NY];
    #pragma HLS ARRAY_PARTITION variable = ay complete
    OP::run(ay);
    write_tensor<NY>(ay, y);
}

template <class OP, unsigned N0, unsigned NY, class x0_T, unsigned D0, class y_T, unsigned DY>
void stream_op(hls::stream<token<x0_T, D0> > &x0, hls::stream<token<y_T, DY> > &y) {
    #pragma HLS INLINE off
    x0_T a0[N0];
    y_T ay[NY];
    #pragma HLS ARRAY_PARTITION variable = a0 complete
    #pragma HLS ARRAY_PARTITION variable = ay complete
    read_tensor<N0>(x0, a0);
    OP::run(a0, ay);
    write_tensor<NY>(ay, y);
}

template <class OP, unsigned N0, unsigned N1, unsigned NY, class x0_T, unsigned D0, class x1_T, unsigned D1,
          class y_T, unsigned DY>
void stream_op(hls::stream<token<x0_T, D0> > &x0, hls::stream<token<x1_T, D1> > &x1,
               hls::stream<token<y_T, DY> > &y) {
    #pragma HLS INLINE off
    x0_T a0[N0];
    x1_T a1[N1];
    y_T ay[NY];
    #pragma HLS ARRAY_PARTITION variable = a0 complete
    #pragma HLS ARRAY_PARTITION variable = a1 complete
    #pragma HLS ARRAY_PARTITION variable = ay complete
    read_tensor<N0>(x0, a0);
    read_tensor<N1>(x1, a1);
    OP::run(a0, a1, ay);
    write_tensor<NY>(ay, y);
}

template <class OP, unsigned N0, unsigned N1, unsigned N2, unsigned NY, class x0_T, unsigned D0, class x1_T,
          unsigned D1, class x2_T, unsigned D2, class y_T, unsigned DY>
void stream_op(hls::stream<token<x0_T, D0> > &x0, hls::stream<token<x1_T, D1> > &x1,
               hls::stream<token<x2_T, D2> > &x2, hls::stream<token<y_T, DY> > &y) {
    #pragma HLS INLINE off
    x0_T a0[N0];
    x1_T a1[N1];
    x2_T a2[N2];
    y_T ay[NY];
    #pragma HLS ARRAY_PARTITION variable = a0 complete
    #pragma HLS ARRAY_PARTITION variable = a1 complete
    #pragma HLS ARRAY_PARTITION variable = a2 complete
    #pragma HLS ARRAY_PARTITION variable = ay complete
    read_tensor<N0>(x0, a0);
    read_tensor<N1>(x1, a1);
    read_tensor<N2>(x2, a2);
    OP::run(a0, a1, a2, ay);
    write_tensor<NY>(ay, y);
}

template <class OP, unsigned N0, unsigned N1, unsigned N2, unsigned N3, unsigned NY, class x0_T, unsigned D0,
          class x1_T, unsigned D1, class x2_T, unsigned D2, class x3_T, unsigned D3, class y_T, unsigned DY>
void stream_op(hls::stream<token<x0_T, D0> > &x0, hls::stream<token<x1_T, D1> > &x1,
               hls::stream<token<x2_T, D2> > &x2, hls::stream<token<x3_T, D3> > &x3,
               hls::stream<token<y_T, DY> > &y) {
    #pragma HLS INLINE off
    x0_T a0[N0];
    x1_T a1[N1];
    x2_T a2[N2];
    x3_T a3[N3];
    y_T ay[NY];
    #pragma HLS ARRAY_PARTITION variable = a0 complete
    #pragma HLS ARRAY_PARTITION variable = a1 complete
    #pragma HLS ARRAY_PARTITION variable = a2 complete
    #pragma HLS ARRAY_PARTITION variable = a3 complete
    #pragma HLS ARRAY_PARTITION variable = ay complete
    read_tensor<N0>(x0, a0);
    read_tensor<N1>(x1, a1);
    read_tensor<N2>(x2, a2);
    read_tensor<N3>(x3, a3);
    OP::run(a0, a1, a2, a3, ay);
    write_tensor<NY>(ay, y);
}

// A tensor read by K ops (residual connections, Q/K/V of one input): every token to each copy.
template <unsigned N, unsigned K, class T, unsigned D>
void stream_dup(hls::stream<token<T, D> > &x, hls::stream<token<T, D> > y[K]) {
    #pragma HLS INLINE off
Dup:
    for (unsigned t = 0; t < N / D; t++) {
        #pragma HLS PIPELINE
        token<T, D> tok = x.read();
        for (unsigned k = 0; k < K; k++) {
            #pragma HLS UNROLL
            y[k].write(tok);
        }
    }
}

// A tensor nothing reads: consumed so that its producer never stalls.
template <unsigned N, class T, unsigned D> void stream_drain(hls::stream<token<T, D> > &x) {
    #pragma HLS INLINE off
Drain:
    for (unsigned t = 0; t < N / D; t++) {
        #pragma HLS PIPELINE
        x.read();
    }
}

// -- the AXI4-Stream ports of the top -----------------------------------------------------------------
// Reads the N / D beats of one sample (their TLAST is not checked: the design counts tokens).
template <unsigned N, int WORD, class T, unsigned D>
void axis_to_stream(hls::stream<axis_word<WORD> > &in, hls::stream<token<T, D> > &out) {
    #pragma HLS INLINE off
AxisIn:
    for (unsigned t = 0; t < N / D; t++) {
        #pragma HLS PIPELINE
        axis_word<WORD> p = in.read();
        out.write(unpack_token<T, D>(p.data));
    }
}

// Writes the N / D beats of one sample, TLAST on the last.
template <unsigned N, int WORD, class T, unsigned D>
void stream_to_axis(hls::stream<token<T, D> > &in, hls::stream<axis_word<WORD> > &out) {
    #pragma HLS INLINE off
AxisOut:
    for (unsigned t = 0; t < N / D; t++) {
        #pragma HLS PIPELINE
        axis_word<WORD> p;
        p.data = pack_token<WORD>(in.read());
        p.keep = -1;
        p.strb = -1;
        p.last = (t == N / D - 1) ? 1 : 0;
        out.write(p);
    }
}

#ifndef __SYNTHESIS__
// -- testbench side (not synthesised): raw integers (value * 2^F) <-> AXI4-Stream beats --------------
template <bool S, int W> struct raw_int { typedef ap_int<W> type; };
template <int W> struct raw_int<false, W> { typedef ap_uint<W> type; };

// The N raw integers of one sample (row-major) as N / D beats, TLAST on the last.
template <class T, unsigned D, unsigned N, int WORD>
void raw_to_axis(const long long *raw, hls::stream<axis_word<WORD> > &out) {
    const int w = T::width;
    for (unsigned t = 0; t < N / D; t++) {
        token<T, D> tok;
        for (unsigned d = 0; d < D; d++) {
            ap_int<64> r = raw[t * D + d];
            tok.data[d].range(w - 1, 0) = r.range(w - 1, 0);
        }
        axis_word<WORD> p;
        p.data = pack_token<WORD>(tok);
        p.keep = -1;
        p.strb = -1;
        p.last = (t == N / D - 1) ? 1 : 0;
        out.write(p);
    }
}

// The N raw integers of one sample from N / D beats; S: the element type is signed. Returns 0, or (with
// a message on stderr) 1 when beats are missing, 2 when TLAST is wrong, 3 when beats are left over.
template <class T, bool S, unsigned D, unsigned N, int WORD>
int axis_to_raw(hls::stream<axis_word<WORD> > &in, long long *raw, const char *name) {
    const int w = T::width;
    for (unsigned t = 0; t < N / D; t++) {
        if (in.empty()) {
            std::cerr << "output " << name << ": " << t << " of " << N / D << " beats" << std::endl;
            return 1;
        }
        axis_word<WORD> p = in.read();
        const bool last = (t == N / D - 1);
        if ((p.last != 0) != last) {
            std::cerr << "output " << name << ": TLAST " << p.last << " on beat " << t << " of " << N / D << std::endl;
            return 2;
        }
        token<T, D> tok = unpack_token<T, D>(p.data);
        for (unsigned d = 0; d < D; d++) {
            typename raw_int<S, w>::type r;
            r.range(w - 1, 0) = tok.data[d].range(w - 1, 0);
            raw[t * D + d] = (long long)r.to_int64();
        }
    }
    if (!in.empty()) {
        std::cerr << "output " << name << ": more than " << N / D << " beats" << std::endl;
        while (!in.empty()) in.read();
        return 3;
    }
    return 0;
}
#endif

} // namespace hlsgen

#endif
