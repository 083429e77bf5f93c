# The cell and graph axes of a model, and what every graph shares: its parameters, weights
# converted between graphs, the same function computed by both.
@testset "cells and graphs" begin
    vocab = CharLSTM.build_vocabulary(FIXTURE_TEXT)
    unrolled = spec_for(CharLSTM.n_class(vocab))
    fused = CharLSTM.with_graph(unrolled, :fused)
    random_params(spec, seed) = (mx.srand(seed);
        Dict(name => mx.rand!(mx.empty(shape), -1, 1) for (name, shape) in CharLSTM.parameter_shapes(spec)))
    arrays(params) = Dict(k => copy(v) for (k, v) in params)

    @testset "a spec names its cell and graph" begin
        @test CharLSTM.cell_of(unrolled) isa CharLSTM.LSTMCell
        @test CharLSTM.graph_of(unrolled) isa CharLSTM.Unrolled && CharLSTM.graph_of(fused) isa CharLSTM.Fused
        @test fused.cell == :lstm && fused.graph == :fused && CharLSTM.with_graph(fused, :unrolled) == unrolled
        @test CharLSTM.describe(unrolled) == "2x8 LSTM (unrolled graph)"
        @test CharLSTM.describe(fused) == "2x8 LSTM (fused graph)"
        @test CharLSTM.n_state_outputs(unrolled) == CharLSTM.n_state_outputs(fused) == 4
        @test_throws PyJLChar.UserError CharLSTM.with_graph(unrolled, :lstm)   # the old name of the unrolled graph
        @test CharLSTM.lstm_data_shapes(fused, 5, 3) ==
              [:ptb_data => (unrolled.n_class, 5, 3), :ptb_l1_init_c => (8, 3), :ptb_l2_init_c => (8, 3),
               :ptb_l1_init_h => (8, 3), :ptb_l2_init_h => (8, 3)]
        @test CharLSTM.lstm_label_shapes(fused, 5, 3) == [:ptb_label => (5, 3)]
    end

    @testset "both graphs learn as many numbers" begin
        @test CharLSTM.parameter_count(unrolled) == CharLSTM.parameter_count(fused)
        shapes = Dict(CharLSTM.parameter_shapes(fused))
        @test sort(collect(keys(shapes))) == [:ptb_embed_weight, :ptb_lstm_parameters, :ptb_pred_bias, :ptb_pred_weight]
        @test shapes[:ptb_lstm_parameters] == (CharLSTM.parameter_count(unrolled) - sum(prod, (shapes[:ptb_embed_weight],
                                               shapes[:ptb_pred_weight], shapes[:ptb_pred_bias])),)
    end

    @testset "convert_graph: unrolled -> fused -> unrolled is the same weights ($layers layer(s))" for layers in (1, 2, 3)
        spec = spec_for(CharLSTM.n_class(vocab); layers = layers, hidden = 5, embed = 7)
        params = random_params(spec, layers)
        as_fused = CharLSTM.convert_graph(params, spec, :fused)
        @test Dict(k => size(v) for (k, v) in as_fused) == Dict(CharLSTM.parameter_shapes(CharLSTM.with_graph(spec, :fused)))
        back = CharLSTM.convert_graph(as_fused, CharLSTM.with_graph(spec, :fused), :unrolled)
        @test arrays(back) == arrays(params)   # bit for bit
        # And the other way round, from the fused graph's own weights.
        own = random_params(CharLSTM.with_graph(spec, :fused), 10 + layers)
        there = CharLSTM.convert_graph(own, CharLSTM.with_graph(spec, :fused), :unrolled)
        @test arrays(CharLSTM.convert_graph(there, spec, :fused)) == arrays(own)
        @test CharLSTM.convert_graph(params, spec, :unrolled) === params   # nothing to convert
        @test CharLSTM.written_graph(params, spec) == :unrolled && CharLSTM.written_graph(as_fused, spec) == :fused
        # Weights of another model's size are refused, not misread.
        flat = copy(as_fused[:ptb_lstm_parameters])
        long = merge(as_fused, Dict(:ptb_lstm_parameters => mx.NDArray([flat; 0f0])))
        @test_throws ArgumentError CharLSTM.convert_graph(long, CharLSTM.with_graph(spec, :fused), :unrolled)
    end

    @testset "initial_params: the same weights for the same seed, whichever graph" begin
        draw(spec) = (mx.srand(5); CharLSTM.initial_params(spec, mx.UniformInitializer(0.1)))
        from_unrolled, from_fused = draw(unrolled), draw(fused)
        @test Set(keys(from_fused)) == Set(first.(CharLSTM.parameter_shapes(fused)))
        @test arrays(CharLSTM.convert_graph(from_fused, fused, :unrolled)) == arrays(from_unrolled)
        @test all(all(abs.(a) .<= 0.1) for a in values(arrays(from_unrolled)))
    end

    @testset "the same NLL over the training graph's batches, on the same weights and text" begin
        text = repeat(FIXTURE_TEXT, 3)
        params = random_params(unrolled, 9)
        function batches_nll(spec, arg_params)
            provider = CharLSTM.CharSeqProvider(text, 3, 5, vocab, spec)
            inputs = [mx.provide_data(provider); mx.provide_label(provider)]
            exec = mx.simple_bind(CharLSTM.LSTM(spec, 5), mx.cpu(); grad_req = :null, Dict(inputs)...)
            for (name, arr) in arg_params
                copy!(exec.arg_dict[name], arr)
            end
            metric = CharLSTM.NLL()
            for batch in mx.eachbatch(provider)
                for (name, arr) in zip(first.(inputs), [batch.data; batch.label])
                    copy!(exec.arg_dict[name], arr)
                end
                mx.update!(metric, batch.label, mx.forward(exec)[1:CharLSTM.n_prob_outputs(CharLSTM.graph_of(spec), 5)])
            end
            return get(metric)[1][2], metric.n_chars
        end
        nll, n_chars = batches_nll(unrolled, params)
        fused_nll, fused_chars = batches_nll(fused, CharLSTM.convert_graph(params, unrolled, :fused))
        @test n_chars == fused_chars == CharLSTM.n_batches(length(text), 3, 5) * 15
        @test isapprox(fused_nll, nll; atol = 1e-5)
        @test nll > 0.5   # weights far from uniform: not a trivially equal pair
    end
end
