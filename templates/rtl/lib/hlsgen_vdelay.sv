// hlsgen RTL library: a valid bit and its W bits of tags, delayed D register stages together (D = 0:
// wires), beside a pipelined computation (the SIMD sum tree of the matrix engines, the squares' tree of
// layernorm). The valid bit is reset (a delay line of its own); the tags are not (hlsgen_delay).
module hlsgen_vdelay #(
    parameter int W = 1,
    parameter int D = 1
) (
    input  logic         clk,
    input  logic         rst,
    input  logic         v,
    input  logic [W-1:0] x,
    output logic         vy,
    output logic [W-1:0] y
);
    hlsgen_delay #(
        .W(W), .D(D)
    ) u_tags (
        .clk(clk),
        .x(x),
        .y(y)
    );
    generate
        if (D == 0) begin : g_v0
            assign vy = v;
        end else begin : g_vn
            logic [D-1:0] vq;
            always_ff @(posedge clk) begin
                if (rst) vq <= '0;
                else vq <= D'({vq, v});
            end
            assign vy = vq[D-1];
        end
    endgenerate
endmodule
