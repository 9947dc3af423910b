// hlsgen RTL library: a balanced reduction tree over N values, registered every LV levels (the pipeline
// depth knob of the row reductions of hlsgen_layernorm and hlsgen_softmax).
//
//   OP 0: sum, exact: the W-bit inputs (signed when S) extended to OW bits and added pairwise;
//   OP 1: maximum over the inputs whose keep bit is set (OW = W; the type's minimum when none is kept).
//
// The tree has NLEV = ceil(log2 N) levels; a register follows level i when LV > 0 and i is a multiple of
// LV or the last level, so the result of the inputs presented in cycle c is valid in cycle c + LAT,
// LAT = ceil(NLEV / LV) (0 when LV = 0: purely combinational). It runs freely: no enable, no valid.
// A sum at level i adds 2^i inputs, so it is exact in W + i bits: each level's adders and registers are
// min(W + i, OW) bits wide (sign- or zero-extended to OW between levels, which costs nothing).
module hlsgen_tree #(
    parameter int N = 4,
    parameter int W = 8,
    parameter bit S = 1'b1,
    parameter int OW = 10,
    parameter int OP = 0,
    parameter int LV = 1
) (
    input  logic            clk,
    input  logic [N*W-1:0]  x,
    input  logic [N-1:0]    keep,
    output logic [OW-1:0]   y,
    output logic            y_keep
);
    localparam int NLEV = (N > 1) ? $clog2(N) : 0;

    // level i holds ceil(N / 2^i) values at [i*N*OW +: N*OW] (value j at [j*OW +: OW])
    logic [(NLEV+1)*N*OW-1:0] v;
    logic [(NLEV+1)*N-1:0] k;

    generate
        for (genvar j = 0; j < N; j++) begin : g_leaf
            if (S) begin : g_s
                assign v[j*OW+:OW] = OW'($signed(x[j*W+:W]));
            end else begin : g_u
                assign v[j*OW+:OW] = OW'(x[j*W+:W]);
            end
            assign k[j] = (OP == 1) ? keep[j] : 1'b1;
        end
        for (genvar i = 1; i <= NLEV; i++) begin : g_lvl
            localparam int NI = (N + (1 << i) - 1) >> i;  // values at this level
            localparam int NB = (N + (1 << (i - 1)) - 1) >> (i - 1);  // values at the level below
            localparam bit REG = (LV > 0) && ((i % ((LV > 0) ? LV : 1)) == 0 || i == NLEV);
            // width of this level's values: a sum of 2^i inputs needs W + i bits (a maximum W)
            localparam int RW = (OP == 0 && W + i < OW) ? W + i : OW;
            for (genvar j = 0; j < NI; j++) begin : g_node
                logic [RW-1:0] a, r;
                logic ka, kr;
                assign a = v[((i-1)*N+2*j)*OW+:RW];
                assign ka = k[(i-1)*N+2*j];
                if (2 * j + 1 < NB) begin : g_two
                    logic [RW-1:0] b;
                    logic kb;
                    assign b = v[((i-1)*N+2*j+1)*OW+:RW];
                    assign kb = k[(i-1)*N+2*j+1];
                    if (OP == 0) begin : g_sum
                        assign r = a + b;
                        assign kr = 1'b1;
                    end else begin : g_max
                        logic b_wins;
                        if (S) begin : g_cs
                            assign b_wins = kb && (!ka || $signed(b) > $signed(a));
                        end else begin : g_cu
                            assign b_wins = kb && (!ka || b > a);
                        end
                        assign r = b_wins ? b : a;
                        assign kr = ka | kb;
                    end
                end else begin : g_one
                    assign r = a;
                    assign kr = ka;
                end
                logic [RW-1:0] rv;
                if (REG) begin : g_reg
                    logic [RW-1:0] rq;
                    logic kq;
                    always_ff @(posedge clk) begin
                        rq <= r;
                        kq <= kr;
                    end
                    assign rv = rq;
                    assign k[i*N+j] = kq;
                end else begin : g_wire
                    assign rv = r;
                    assign k[i*N+j] = kr;
                end
                if (S) begin : g_sx
                    assign v[(i*N+j)*OW+:OW] = OW'($signed(rv));
                end else begin : g_zx
                    assign v[(i*N+j)*OW+:OW] = OW'(rv);
                end
            end
            if (NI < N) begin : g_pad
                assign v[(i*N+NI)*OW+:(N-NI)*OW] = '0;
                assign k[i*N+NI+:N-NI] = '0;
            end
        end
    endgenerate

    assign y = v[NLEV*N*OW+:OW];
    assign y_keep = k[NLEV*N];
endmodule
