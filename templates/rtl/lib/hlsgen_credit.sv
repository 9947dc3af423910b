// hlsgen RTL library: the valid/ready stream interface of a pipeline that never stalls (a per-layer
// latency engine: an unrolled pipeline of a fixed number of cycles, one row a cycle).
//
// Credits: a row is accepted (in_ready) only while fewer than DEPTH rows are in the pipeline or in the
// output FIFO, so every row the pipeline delivers (pipe_valid, pipe_data) finds room in the FIFO and
// nothing is lost when the consumer stalls (out_ready low). The count is a register: in_ready depends on
// no input of this cycle. DEPTH = pipeline latency + 2 keeps a row a cycle flowing while the consumer
// takes a row every cycle (a row accepted in cycle c is visible on out_* in cycle c + latency + 1 and its
// credit returns the cycle after it is taken).
module hlsgen_credit #(
    parameter int W = 8,
    parameter int DEPTH = 4
) (
    input  logic         clk,
    input  logic         rst,
    input  logic         in_valid,
    output logic         in_ready,
    input  logic         pipe_valid,
    input  logic [W-1:0] pipe_data,
    output logic         out_valid,
    input  logic         out_ready,
    output logic [W-1:0] out_data
);
    localparam int CW = $clog2(DEPTH + 1);

    logic [CW-1:0] occ;  // rows accepted and not yet taken
    logic accept, take;

    assign in_ready = occ != CW'(DEPTH);
    assign accept = in_valid & in_ready;
    assign take = out_valid & out_ready;

    always_ff @(posedge clk) begin
        if (rst) occ <= '0;
        else if (accept & ~take) occ <= occ + 1'b1;
        else if (take & ~accept) occ <= occ - 1'b1;
    end

    hlsgen_fifo #(
        .W(W),
        .DEPTH(DEPTH)
    ) u_fifo (
        .clk(clk),
        .rst(rst),
        .in_valid(pipe_valid),
        .in_ready(),
        .in_data(pipe_data),
        .out_valid(out_valid),
        .out_ready(out_ready),
        .out_data(out_data)
    );
endmodule
