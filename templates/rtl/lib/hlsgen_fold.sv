// hlsgen RTL library: the control of the blocks that fold the T rows of a sequence into one output row
// (hlsgen_avgpool, hlsgen_maxpool). An input row is taken (`take`) while the output register is free
// (empty or being emptied); `first` / `last` mark the sequence's first / last row, and the output register
// (written by the caller on take && last) holds a valid row from the next cycle until it is taken.
//
// With PIPE > 0 the caller's result passes PIPE register stages before the output register (the
// caller's registers enabled by `adv`): the fold, its stages and the output register move together
// whenever the output register is free or being emptied (`adv`), and stand still otherwise, so a
// result reaches the output register PIPE cycles after its last row when nothing waits, and a row is
// taken only in a cycle that moves the stages (the registered sum is read before the next rows change
// it). PIPE = 0: as above, the output register written on take && last.
module hlsgen_fold #(
    parameter int T = 2,
    parameter int PIPE = 0  // register stages between the last row's take and the output register
) (
    input  logic clk,
    input  logic rst,
    input  logic in_valid,
    output logic in_ready,
    output logic out_valid,
    input  logic out_ready,
    output logic take,
    output logic first,
    output logic last,
    output logic adv  // the output register free or being emptied: the fold and its stages move
);
    localparam int TW = $clog2(T + 1);
    logic [TW-1:0] tc;

    logic res;  // a result enters the output register

    assign adv = !out_valid || out_ready;
    assign in_ready = adv;
    assign take = in_valid && in_ready;
    assign first = tc == '0;
    assign last = tc == TW'(T - 1);

    generate
        if (PIPE > 0) begin : g_pipe
            logic [PIPE-1:0] vs;  // a result in each stage
            always_ff @(posedge clk) begin
                if (rst) vs <= '0;
                else if (adv) vs <= PIPE'({vs, take && last});
            end
            assign res = adv && vs[PIPE-1];
        end else begin : g_direct
            assign res = take && last;
        end
    endgenerate

    always_ff @(posedge clk) begin
        if (rst) begin
            tc <= '0;
            out_valid <= 1'b0;
        end else begin
            if (take) tc <= last ? '0 : tc + 1'b1;
            if (res) out_valid <= 1'b1;
            else if (out_ready) out_valid <= 1'b0;
        end
    end
endmodule
