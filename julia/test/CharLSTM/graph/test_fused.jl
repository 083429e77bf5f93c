@testset "fused graph" begin
    dir = mktempdir()
    path, params, vocab, spec = make_checkpoint(dir)
    fused_spec = CharLSTM.with_graph(spec, :fused)
    fused = CharLSTM.convert_graph(params, spec, :fused)

    @testset "weights convert both ways, exactly" begin
        @test Dict(CharLSTM.parameter_shapes(fused_spec)) == Dict(k => size(v) for (k, v) in fused)
        back = CharLSTM.convert_graph(fused, fused_spec, :unrolled)
        @test Set(keys(back)) == Set(keys(params))
        @test all(copy(back[k]) == copy(params[k]) for k in keys(params))
    end

    @testset "same probabilities and final states as the unrolled graph" begin
        ids = Int32.(rand(Random.MersenneTwister(3), 0:spec.n_class-1, 5, 3))
        unrolled_p = CharLSTM.StatefulPredictor(spec, params, 5, 3)
        fused_p = CharLSTM.StatefulPredictor(fused_spec, fused, 5, 3)
        for _ in 1:2   # the second call starts from the carried states
            a, b = CharLSTM.predict!(unrolled_p, ids), CharLSTM.predict!(fused_p, ids)
            @test all(isapprox(x, y; atol = 1e-5) for (x, y) in zip(a, b))
            @test all(isapprox(copy(x), copy(y); atol = 1e-5)
                      for (x, y) in zip(unrolled_p.init_states, fused_p.init_states))
        end
    end

    @testset "the same NLL on the same weights, whichever graph evaluates" begin
        text = FIXTURE_TEXT
        own = CharLSTM.evaluate_text(CharLSTM.TrainedModel(path), text)["nll"]
        as_fused = CharLSTM.TrainedModel(path; graph = :fused)
        @test isapprox(CharLSTM.evaluate_text(as_fused, text)["nll"], own; atol = 1e-5)
        # A checkpoint saved by the fused graph, evaluated both ways.
        fused_dir = mktempdir()
        prefix = joinpath(fused_dir, "ptb")
        mx.save(mx.checkpoint_params_file(prefix, 1), Dict("arg:$k" => v for (k, v) in fused))
        CharLSTM.write_meta(prefix, CharLSTM.RunMeta(vocab, fused_spec, data_settings(), test_settings(), 1))
        fused_path = mx.checkpoint_params_file(prefix, 1)
        @test CharLSTM.load_trained(fused_path)[2].graph == :fused
        @test isapprox(CharLSTM.evaluate_text(CharLSTM.TrainedModel(fused_path), text)["nll"], own; atol = 1e-5)
        as_unrolled = CharLSTM.TrainedModel(fused_path; graph = :unrolled)
        @test isapprox(CharLSTM.evaluate_text(as_unrolled, text)["nll"], own; atol = 1e-5)
        @test sample_from(fused_path; length = 20, temperature = 0, prime = "he") ==
              sample_from(path; length = 20, temperature = 0, prime = "he")
    end

    @testset "training takes the same steps (gradients agree)" begin
        text = repeat(FIXTURE_TEXT, 4)
        function one_epoch(s)
            mx.srand(7)
            model = mx.FeedForward(CharLSTM.LSTM(s, 6))
            model.arg_params = CharLSTM.initial_params(s, mx.UniformInitializer(0.1))
            metric = CharLSTM.NLL()
            quiet() do
                mx.fit(model, mx.ADAM(lr = 0.01), CharLSTM.CharSeqProvider(text, 4, 6, vocab, s);
                       n_epoch = 1, eval_metric = metric)
            end
            return model.arg_params, get(metric)[1][2]
        end
        unrolled_params, unrolled_nll = one_epoch(spec)
        fused_params, fused_nll = one_epoch(fused_spec)
        @test isapprox(fused_nll, unrolled_nll; atol = 1e-4)
        trained = CharLSTM.convert_graph(fused_params, fused_spec, :unrolled)
        @test all(isapprox(copy(trained[k]), copy(unrolled_params[k]); atol = 1e-4) for k in keys(unrolled_params))
    end

    @testset "optimizer states convert with the weights" begin
        opt = mx.ADAM()
        states = Dict(name => mx.create_state(opt, 0, arr) for (name, arr) in params)
        for (name, state) in states
            mx.rand!(state.mean, -1, 1)
            state.t = 5
        end
        file = joinpath(dir, "ptb.states")
        mx.save_states(file, opt, states)
        loaded = mx.load_states(file, opt; convert = arrays -> CharLSTM.convert_graph(arrays, spec, :fused))
        @test Set(keys(loaded)) == Set(keys(fused))
        flat = :ptb_lstm_parameters
        @test CharLSTM.fused_parameters_name(spec) == flat
        expected = CharLSTM.convert_graph(Dict(k => s.mean for (k, s) in states), spec, :fused)[flat]
        @test copy(loaded[flat].mean) == copy(expected) && loaded[flat].t == 5
    end
end
