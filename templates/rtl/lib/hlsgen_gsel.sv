// hlsgen RTL library: group `sel` of G groups of W bits (x[g*W +: W]), picked by a balanced tree of 2:1
// multiplexers over the bits of sel (GW = ceil(log2 G) levels, constant part selects only: a variable
// index times a width would be a multiplier, and a chain of G compares is G multiplexers deep). The tree
// is registered after every SEL_LV levels and after its last, SELS = ceil(GW / SEL_LV) stages: y is the
// group sel picked of x, both as they were SELS cycles before (a level k registers down selects by sel
// as it was k cycles ago, kept in sr beside the tree). G = 1: y = x, no register. It runs freely: no
// enable, no valid. hlsgen_softmax picks the groups of a row with it (its scan M and its stage E).
module hlsgen_gsel #(
    parameter int G = 2,
    parameter int W = 1,
    parameter int SEL_LV = 4,
    parameter int GW_ = (G > 1) ? $clog2(G) : 1
) (
    input  logic           clk,
    input  logic [G*W-1:0] x,
    input  logic [GW_-1:0] sel,
    output logic [W-1:0]   y
);
    localparam int GW = GW_;
    localparam int SELS = (G > 1) ? (GW + SEL_LV - 1) / SEL_LV : 0;
    localparam int SR = (SELS > 0) ? SELS : 1;
    localparam int GP = 1 << GW;  // groups padded to a power of two
    localparam int LW_ = GP * W;  // one level of the tree (its upper part unused past level 0)

    logic [SR*GW-1:0] sr;  // sel 1 .. SELS cycles ago, at [(k-1)*GW +: GW]
    always_ff @(posedge clk) sr <= (SR * GW)'({sr, sel});

    generate
        if (G == 1) begin : g_one
            assign y = x;
        end else begin : g_tree
            logic [(GW+1)*LW_-1:0] t;  // level b at [b*LW_ +: LW_]
            for (genvar gi = 0; gi < GP; gi++) begin : g_leaf
                if (gi < G) begin : g_in
                    assign t[gi*W+:W] = x[gi*W+:W];
                end else begin : g_pad
                    assign t[gi*W+:W] = '0;
                end
            end
            for (genvar b = 0; b < GW; b++) begin : g_level
                localparam int HALF = GP >> (b + 1);
                localparam int KD = b / SEL_LV;  // registered levels below this one: its select's delay
                localparam bit REG = ((b + 1) % SEL_LV == 0) || (b + 1 == GW);
                logic [HALF*W-1:0] r;
                logic s;
                if (KD > 0) begin : g_seld
                    assign s = sr[(KD-1)*GW+b];
                end else begin : g_sel0
                    assign s = sel[b];
                end
                for (genvar j = 0; j < HALF; j++) begin : g_mux
                    assign r[j*W+:W] = s ? t[b*LW_+(2*j+1)*W+:W] : t[b*LW_+2*j*W+:W];
                end
                if (REG) begin : g_reg
                    logic [HALF*W-1:0] q;
                    always_ff @(posedge clk) q <= r;
                    assign t[(b+1)*LW_+:HALF*W] = q;
                end else begin : g_wire
                    assign t[(b+1)*LW_+:HALF*W] = r;
                end
                assign t[(b+1)*LW_+HALF*W+:LW_-HALF*W] = '0;
            end
            assign y = t[GW*LW_+:W];
        end
    endgenerate
endmodule
