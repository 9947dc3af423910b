// hlsgen RTL library: the control of the blocks that fold the T rows of a sequence into one output row
// (hlsgen_avgpool, hlsgen_maxpool). An input row is taken (`take`) while the output register is free
// (empty or being emptied); `first` / `last` mark the sequence's first / last row, and the output register
// (written by the caller on take && last) holds a valid row from the next cycle until it is taken.
module hlsgen_fold #(
    parameter int T = 2
) (
    input  logic clk,
    input  logic rst,
    input  logic in_valid,
    output logic in_ready,
    output logic out_valid,
    input  logic out_ready,
    output logic take,
    output logic first,
    output logic last
);
    localparam int TW = $clog2(T + 1);
    logic [TW-1:0] tc;

    assign in_ready = !out_valid || out_ready;
    assign take = in_valid && in_ready;
    assign first = tc == '0;
    assign last = tc == TW'(T - 1);

    always_ff @(posedge clk) begin
        if (rst) begin
            tc <= '0;
            out_valid <= 1'b0;
        end else begin
            if (take) tc <= last ? '0 : tc + 1'b1;
            if (take && last) out_valid <= 1'b1;
            else if (out_ready) out_valid <= 1'b0;
        end
    end
endmodule
