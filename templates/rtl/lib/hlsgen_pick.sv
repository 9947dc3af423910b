// hlsgen RTL library: group `sel` of G groups of W bits (x[g*W +: W]), combinational, read from an array of
// the groups padded with zeros to 2^SW (a group sel >= G is zero). A variable part select x[sel*W +: W] is
// a multiplier to synthesis where W is no power of two (Yosys built such picks in DSP48E2s, 6-7 LUT levels
// deep); an array index is a multiplexer. The engines pick heads and groups of a row with it (hlsgen_scores,
// hlsgen_context), and hlsgen_linear the bias of an output group.
module hlsgen_pick #(
    parameter int G = 2,
    parameter int W = 1,
    parameter int SW = 1  // bits of sel: 2^SW >= G
) (
    input  logic [G*W-1:0] x,
    input  logic [SW-1:0]  sel,
    output logic [W-1:0]   y
);
    logic [W-1:0] grp[1<<SW];
    generate
        for (genvar g = 0; g < (1 << SW); g++) begin : g_grp
            if (g < G) begin : g_in
                assign grp[g] = x[g*W+:W];
            end else begin : g_pad
                assign grp[g] = '0;
            end
        end
    endgenerate
    assign y = grp[sel];
endmodule
