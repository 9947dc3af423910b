// hlsgen RTL library: the output side of a decode top, one per output. Each token's flag (from
// hlsgen_decode_front) waits in a FIFO of DEPTH flags; flag 0: the datapath's row goes out with TUSER = 0;
// flag 1 (overflow): a row of zeros goes out with TUSER = 1 and the datapath gives nothing. TLAST is set
// on every beat (a decode step is one token).
module hlsgen_decode_back #(
    parameter int W = 8,
    parameter int DEPTH = 2
) (
    input  logic         clk,
    input  logic         rst,
    input  logic         flag_valid,
    output logic         flag_ready,
    input  logic         flag_data,
    input  logic         in_valid,
    output logic         in_ready,
    input  logic [W-1:0] in_data,
    output logic         out_valid,
    input  logic         out_ready,
    output logic [W-1:0] out_data,
    output logic         out_user
);
    logic fv, fd, fpop;

    hlsgen_fifo #(
        .W(1),
        .DEPTH(DEPTH)
    ) u_flags (
        .clk(clk),
        .rst(rst),
        .in_valid(flag_valid),
        .in_ready(flag_ready),
        .in_data(flag_data),
        .out_valid(fv),
        .out_ready(fpop),
        .out_data(fd)
    );

    assign out_valid = fv && (fd || in_valid);
    assign out_data = fd ? '0 : in_data;
    assign out_user = fd;
    assign in_ready = fv && !fd && out_ready;
    assign fpop = out_valid && out_ready;
endmodule
