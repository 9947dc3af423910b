// hlsgen RTL library: an element-wise activation of a stream of rows, one row per cycle, registered.
//
// KIND 0 (linear): y = cast(x). KIND 1 (relu): y = cast(x > 0 ? x : 0). KIND 2 (table): y =
// cast(table[k]) where k is the input's top TB bits read as offset binary (the MSB inverted for a signed
// input), the same index as hlsgen.ir.ops.basic.Activation; the table is T_INIT (entry k at bits
// [k*TW +: TW]), a ROM read combinationally. Every cast is exactly hlsgen.fixed.convert.
module hlsgen_act #(
    parameter int N = 4,
    parameter int KIND = 0,
    parameter int XW = 8,
    parameter int XF = 0,
    parameter bit XS = 1'b1,
    parameter int TB = 1,
    parameter int TW = 1,
    parameter int TF = 0,
    parameter bit TS = 1'b0,
    parameter logic [(2**TB)*TW-1:0] T_INIT = '0,
    parameter int YW = 8,
    parameter int YF = 0,
    parameter bit YS = 1'b1,
    parameter int Y_RND = 0,
    parameter int Y_OVF = 0
) (
    input  logic            clk,
    input  logic            rst,
    input  logic            in_valid,
    output logic            in_ready,
    input  logic [N*XW-1:0] in_data,
    output logic            out_valid,
    input  logic            out_ready,
    output logic [N*YW-1:0] out_data
);
    logic [N*YW-1:0] y;

    generate
        for (genvar j = 0; j < N; j++) begin : g_lane
            logic [XW-1:0] x;
            assign x = in_data[j*XW+:XW];
            if (KIND == 2) begin : g_table
                logic [TB-1:0] k;
                if (XS && TB == 1) begin : g_s1
                    assign k = ~x[XW-1];
                end else if (XS) begin : g_s
                    assign k = {~x[XW-1], x[XW-2-:TB-1]};
                end else begin : g_u
                    assign k = x[XW-1-:TB];
                end
                hlsgen_cast #(
                    .IW(TW), .IF(TF), .IS(TS), .OW(YW), .OF(YF), .OS(YS), .RND(Y_RND), .OVF(Y_OVF)
                ) u_cast (
                    .x(T_INIT[k*TW+:TW]),
                    .y(y[j*YW+:YW])
                );
            end else begin : g_cast
                logic [XW-1:0] v;
                if (KIND == 1 && XS) begin : g_relu
                    assign v = x[XW-1] ? '0 : x;
                end else begin : g_id
                    assign v = x;
                end
                hlsgen_cast #(
                    .IW(XW), .IF(XF), .IS(XS), .OW(YW), .OF(YF), .OS(YS), .RND(Y_RND), .OVF(Y_OVF)
                ) u_cast (
                    .x(v),
                    .y(y[j*YW+:YW])
                );
            end
        end
    endgenerate

    assign in_ready = !out_valid || out_ready;

    always_ff @(posedge clk) begin
        if (in_valid && in_ready) out_data <= y;
    end

    always_ff @(posedge clk) begin
        if (rst) out_valid <= 1'b0;
        else if (in_valid && in_ready) out_valid <= 1'b1;
        else if (out_ready) out_valid <= 1'b0;
    end
endmodule
