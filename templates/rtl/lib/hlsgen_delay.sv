// hlsgen RTL library: D register stages of W bits (D = 0: a wire); no enable, no reset. Carries the
// values that travel beside a pipelined computation (lanes, group index, flags).
module hlsgen_delay #(
    parameter int W = 1,
    parameter int D = 1
) (
    input  logic         clk,
    input  logic [W-1:0] x,
    output logic [W-1:0] y
);
    generate
        if (D == 0) begin : g_wire
            assign y = x;
        end else begin : g_regs
            logic [W-1:0] r[D];
            always_ff @(posedge clk) begin
                r[0] <= x;
                for (int i = 1; i < D; i++) r[i] <= r[i-1];
            end
            assign y = r[D-1];
        end
    endgenerate
endmodule
