// hlsgen RTL library: the input side of a decode top. One AXI4-Stream beat is one token; TUSER[0] = 1
// starts a new sequence with it (the position returns to 0). The module keeps the position of the next
// token and hands every token on to the datapath (tok) together with its position (pos), and a flag to
// every output (flag, 0). When the sequence is full (position = L) the token is not processed: only the
// flags go out, set to 1 (overflow), and neither the caches nor the position change, as in the decode top
// of the HLS project and hlsgen.decode. The outputs are an eager fork: each takes its copy when it is
// ready, and the next beat is accepted once all have.
module hlsgen_decode_front #(
    parameter int DW = 8,
    parameter int L = 2,
    parameter int PW = 1,
    parameter int NOUT = 1
) (
    input  logic            clk,
    input  logic            rst,
    input  logic            in_valid,
    output logic            in_ready,
    input  logic [DW-1:0]   in_data,
    input  logic            in_user,
    output logic            tok_valid,
    input  logic            tok_ready,
    output logic [DW-1:0]   tok_data,
    output logic            pos_valid,
    input  logic            pos_ready,
    output logic [PW-1:0]   pos_data,
    output logic [NOUT-1:0] flag_valid,
    input  logic [NOUT-1:0] flag_ready,
    output logic            flag_data
);
    localparam int CW = $clog2(L + 1);
    logic [CW-1:0] next_pos, p;
    logic tok_done, pos_done, ovf, accept;
    logic [NOUT-1:0] flag_done, flag_ok;

    assign p = in_user ? '0 : next_pos;
    assign ovf = p == CW'(L);
    assign tok_data = in_data;
    assign pos_data = PW'(p);
    assign flag_data = ovf;
    assign tok_valid = in_valid && !ovf && !tok_done;
    assign pos_valid = in_valid && !ovf && !pos_done;
    assign flag_valid = {NOUT{in_valid}} & ~flag_done;
    assign flag_ok = flag_done | flag_ready;
    assign in_ready = (ovf || tok_done || tok_ready) && (ovf || pos_done || pos_ready) && &flag_ok;
    assign accept = in_valid && in_ready;

    always_ff @(posedge clk) begin
        if (rst) begin
            next_pos <= '0;
            tok_done <= 1'b0;
            pos_done <= 1'b0;
            flag_done <= '0;
        end else if (accept) begin
            next_pos <= ovf ? p : p + 1'b1;
            tok_done <= 1'b0;
            pos_done <= 1'b0;
            flag_done <= '0;
        end else begin
            if (tok_valid && tok_ready) tok_done <= 1'b1;
            if (pos_valid && pos_ready) pos_done <= 1'b1;
            flag_done <= flag_done | (flag_valid & flag_ready);
        end
    end
endmodule
