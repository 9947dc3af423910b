// hlsgen RTL library: a simple dual-port RAM of DEPTH words of W bits, one write port and one read port
// with a registered read (rdata holds mem[raddr] of the last cycle with re; the register is the RAM's own
// output register), written as synthesis tools infer block RAM or LUTRAM from it (Yosys synth_xilinx:
// RAMB18/RAMB36, or RAM32M/RAM64M where shallow). The engines' row banks (hlsgen_scores, hlsgen_context)
// use one per lane where a lane holds enough rows (the ping-pong banks read one half while the other is
// written: no read of the word being written); hlsgen_context's output row buffer reads the row being
// completed and sets WRITE_FIRST (a read of the word written in the same cycle returns the new word).
module hlsgen_ram #(
    parameter int W = 8,
    parameter int DEPTH = 2,
    parameter bit WRITE_FIRST = 1'b0,  // a read of the word written in the same cycle returns the new word
    parameter int AW = (DEPTH > 1) ? $clog2(DEPTH) : 1
) (
    input  logic          clk,
    input  logic          we,
    input  logic [AW-1:0] waddr,
    input  logic [W-1:0]  wdata,
    input  logic          re,
    input  logic [AW-1:0] raddr,
    output logic [W-1:0]  rdata
);
    logic [W-1:0] mem[DEPTH];

    always_ff @(posedge clk) begin
        if (we) mem[waddr] <= wdata;
    end

    always_ff @(posedge clk) begin
        if (re) rdata <= (WRITE_FIRST && we && waddr == raddr) ? wdata : mem[raddr];
    end
endmodule
