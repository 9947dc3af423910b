// hlsgen RTL library: the leading one of a W-bit unsigned value in two registered steps, so that a wide
// value's priority select costs a few LUT levels a stage.
//
// Step 1 cuts x into NC chunks of C = 2^CB bits; per chunk, whether any bit is set and the position of
// its highest set bit (CB bits), registered. Step 2 takes the highest chunk with a bit set: p = {chunk,
// position}, registered. p is the index of the highest set bit of the x presented two cycles earlier, 0
// when x is 0 or 1.
module hlsgen_lead #(
    parameter int W = 8,
    parameter int PW = $clog2(W + 1),  // bits of p (at least $clog2(W))
    parameter int CB = 3  // log2 of the chunk width
) (
    input  logic          clk,
    input  logic [W-1:0]  x,
    output logic [PW-1:0] p
);
    localparam int C = 2 ** CB;
    localparam int NC = (W + C - 1) / C;
    localparam int KB = (NC > 1) ? $clog2(NC) : 1;

    logic [NC*C-1:0] xp;
    logic [NC-1:0] any_c, any_q;
    logic [NC*CB-1:0] loc_c, loc_q;
    logic [PW-1:0] p_c;

    assign xp = (NC * C)'(x);

    generate
        for (genvar c = 0; c < NC; c++) begin : g_chunk
            assign any_c[c] = |xp[c*C+:C];
            always_comb begin
                loc_c[c*CB+:CB] = '0;
                for (int b = 1; b < C; b++) begin
                    if (xp[c*C+b]) loc_c[c*CB+:CB] = CB'(b);
                end
            end
        end
    endgenerate

    always_comb begin
        p_c = '0;
        for (int c = 0; c < NC; c++) begin
            if (any_q[c]) p_c = PW'({KB'(c), loc_q[c*CB+:CB]});
        end
    end

    always_ff @(posedge clk) begin
        any_q <= any_c;
        loc_q <= loc_c;
        p <= p_c;
    end
endmodule
