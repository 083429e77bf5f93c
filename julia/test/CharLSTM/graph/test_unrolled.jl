@testset "unrolled graph" begin
    count_ops(node, op) = count(n -> n["op"] == op, JSON.parse_json(mx.to_json(node))["nodes"])

    @testset "argument names and order follow the original (2 layers, 3 steps)" begin
        lstm = CharLSTM.LSTM(spec_for(11; hidden = 8, embed = 5), 3)
        layer(l) = Symbol.("ptb_l$(l)_" .* ["i2h_weight", "i2h_bias", "init_h", "h2h_weight", "h2h_bias", "init_c"])
        @test mx.list_arguments(lstm) == [:ptb_data_1; :ptb_embed_weight; layer(1); layer(2);
                                          :ptb_pred_weight; :ptb_pred_bias; :ptb_label_1;
                                          :ptb_data_2; :ptb_label_2; :ptb_data_3; :ptb_label_3]
        @test mx.list_outputs(lstm) == [:ptb_softmax_1_output, :ptb_softmax_2_output, :ptb_softmax_3_output]
        nodes = [n["name"] for n in JSON.parse_json(mx.to_json(lstm))["nodes"]]
        @test all(name in nodes for name in ("ptb_embed_1", "ptb_pred_3", "ptb_softmax_2"))
        @test allunique(nodes)   # every node has its own name, layers and steps included
    end

    @testset "outputs: softmaxes, then all last c, then all last h" begin
        spec = spec_for(11; hidden = 8, embed = 5, name = "net")
        lstm = CharLSTM.LSTM(spec, 3; output_states = true)
        @test mx.list_outputs(lstm) == [:net_softmax_1_output, :net_softmax_2_output, :net_softmax_3_output,
                                        :net_l1_last_c_output, :net_l2_last_c_output,
                                        :net_l1_last_h_output, :net_l2_last_h_output]
        @test count_ops(lstm, "BlockGrad") == 4
        _, out_shapes, _ = mx.infer_shape(lstm, Dict(CharLSTM.lstm_data_shapes(spec, 3, 4)))
        @test out_shapes == [fill((11, 4), 3); fill((8, 4), 4)]
    end

    @testset "gates: one SliceChannel of i2h + h2h per cell" begin
        lstm = CharLSTM.LSTM(spec_for(11; hidden = 8, embed = 5), 3)
        @test count_ops(lstm, "SliceChannel") == 6
        @test count_ops(lstm, "FullyConnected") == 3 * (1 + 2 * 2 + 1)
        @test count_ops(lstm, "Activation") == 6 * 5
    end

    @testset "dropout only on inputs of layers >= 2 and of the decoder" begin
        @test count_ops(CharLSTM.LSTM(spec_for(11; hidden = 8, embed = 5), 3), "Dropout") == 0
        @test count_ops(CharLSTM.LSTM(spec_for(11; layers = 1, hidden = 8, embed = 5, dropout = 0.5), 3), "Dropout") == 3
        lstm = CharLSTM.LSTM(spec_for(11; hidden = 8, embed = 5, dropout = 0.5), 3)
        nodes = JSON.parse_json(mx.to_json(lstm))["nodes"]
        dropped = sort([nodes[d["inputs"][1][1] + 1]["name"] for d in nodes if d["op"] == "Dropout"])
        @test dropped == sort(["ptb_lstm_$(t)_l$(l)_next_h" for t in 1:3 for l in 1:2])
    end

    @testset "parameter shapes of a ModelSpec" begin
        spec = spec_for(11; hidden = 8, embed = 5)
        shapes = Dict(CharLSTM.parameter_shapes(spec))
        @test sort(collect(keys(shapes))) == sort([:ptb_embed_weight, :ptb_pred_weight, :ptb_pred_bias,
            (Symbol("ptb_l$(l)_$p") for l in 1:2 for p in ("i2h_weight", "h2h_weight", "i2h_bias", "h2h_bias"))...])
        @test shapes[:ptb_embed_weight] == (11, 5)
        @test shapes[:ptb_l1_i2h_weight] == (5, 32) && shapes[:ptb_l2_i2h_weight] == (8, 32)
        @test shapes[:ptb_l1_h2h_bias] == (32,) && shapes[:ptb_pred_weight] == (8, 11)
    end
end
