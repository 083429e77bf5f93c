@testset "checkpoints" begin
    dir = mktempdir()
    path, params, vocab, spec = make_checkpoint(dir)
    prefix = joinpath(dir, "ptb")
    legacy = normpath(joinpath(@__DIR__, "..", "..", "..", "..", "tests", "fixtures", "legacy"))

    @testset "checkpoint_file: a .params file, or a prefix's best validated epoch" begin
        @test CharLSTM.checkpoint_file(path) == path
        meta = CharLSTM.read_meta(CharLSTM.meta_path(prefix))
        run = joinpath(mktempdir(), "ptb")
        for (epoch, val_nll) in ((1, 2.0), (2, 1.5), (3, 1.7))
            CharLSTM.record_epoch!(meta, epoch; train_nll = 1.0, val_nll = val_nll, seconds = 1, graph = :unrolled)
        end
        CharLSTM.write_meta(run, meta)
        @test CharLSTM.checkpoint_file(run) == run * "-0002.params"
        @test occursin("does not exist", user_error(() -> CharLSTM.checkpoint_file(run * "-0009.params")))
        @test occursin("is missing", user_error(() -> CharLSTM.checkpoint_file(joinpath(dir, "other"))))
        CharLSTM.write_meta(run, CharLSTM.RunMeta(vocab, spec, data_settings(), test_settings(), 1))
        @test occursin("no epoch yet", user_error(() -> CharLSTM.checkpoint_file(run)))
    end

    @testset "load_trained" begin
        meta, loaded_spec, loaded = CharLSTM.load_trained(path)
        @test meta.epoch == 1 && loaded_spec == spec
        @test Set(keys(loaded)) == Set(keys(params))
        @test all(copy(loaded[k]) == copy(params[k]) for k in keys(params))
        @test CharLSTM.checkpoint_prefix(path) == prefix
    end

    @testset "user errors" begin
        @test occursin("does not exist", user_error(() -> CharLSTM.load_trained(joinpath(dir, "ptb-0002.params"))))

        other = mktempdir()
        cp(path, joinpath(other, "ptb-0001.params"))
        @test occursin("meta file", user_error(() -> CharLSTM.load_trained(joinpath(other, "ptb-0001.params"))))

        bytes = read(path)
        truncated = joinpath(dir, "ptb-0002.params")
        write(truncated, bytes[1:end÷2])
        @test occursin("corrupt or truncated", user_error(() -> CharLSTM.load_trained(truncated)))
        write(truncated, "not a params file")
        @test occursin("corrupt or truncated", user_error(() -> CharLSTM.load_trained(truncated)))
        rm(truncated)

        write(CharLSTM.meta_path(joinpath(other, "ptb")), "{\"format\": \"something else\"}")
        @test occursin("not a pyjlchar checkpoint", user_error(() -> CharLSTM.load_trained(joinpath(other, "ptb-0001.params"))))
        write(CharLSTM.meta_path(joinpath(other, "ptb")), "{\"format\": ")
        @test occursin("corrupt", user_error(() -> CharLSTM.load_trained(joinpath(other, "ptb-0001.params"))))
    end

    @testset "a checkpoint of a different architecture" begin
        meta = CharLSTM.read_meta(CharLSTM.meta_path(prefix))
        meta.model = CharLSTM.with_fields(meta.model; hidden = 10)
        other = mktempdir()
        cp(path, joinpath(other, "ptb-0001.params"))
        CharLSTM.write_meta(joinpath(other, "ptb"), meta)
        msg = user_error(() -> CharLSTM.load_trained(joinpath(other, "ptb-0001.params")))
        @test occursin("different architecture", msg)
        # Named and shaped as libmxnet shows them: (4 * hidden, embed).
        @test occursin("ptb_l1_i2h_weight", msg) && occursin("(32, 6)", msg) && occursin("(40, 6)", msg)

        partial = joinpath(other, "ptb-0002.params")
        mx.save(partial, Dict("arg:$k" => v for (k, v) in params if k != :ptb_pred_bias))
        CharLSTM.write_meta(joinpath(other, "ptb"), CharLSTM.read_meta(CharLSTM.meta_path(prefix)))
        msg = user_error(() -> CharLSTM.load_trained(partial))
        @test occursin("lacks parameter ptb_pred_bias", msg) && occursin("different architecture", msg)
    end

    @testset "a checkpoint loads with the graph that wrote it, whatever the meta says" begin
        other = mktempdir()
        cp(path, joinpath(other, "ptb-0001.params"))
        meta = CharLSTM.read_meta(CharLSTM.meta_path(prefix))
        meta.model = CharLSTM.with_graph(meta.model, :fused)   # as after `train --resume` with graph = "fused"
        CharLSTM.write_meta(joinpath(other, "ptb"), meta)
        _, loaded_spec, loaded = CharLSTM.load_trained(joinpath(other, "ptb-0001.params"))
        @test loaded_spec.graph == :unrolled && Set(keys(loaded)) == Set(keys(params))
        _, as_fused, fused = CharLSTM.load_trained(joinpath(other, "ptb-0001.params"); graph = :fused)
        @test as_fused.graph == :fused && CharLSTM.written_graph(fused, as_fused) == :fused
    end

    @testset "the old version's checkpoints ($run) load and score as they did" for run in ("lstm", "fused")
        expected = JSON.parse_json(read(joinpath(legacy, "expected.json"), String))
        heldout = read(joinpath(legacy, expected["eval"]["text"]), String)
        file = CharLSTM.checkpoint_file(joinpath(legacy, run, "legacy"))
        @test basename(file) == "legacy-0002.params"   # the best validated epoch
        for graph in (:unrolled, :fused)
            model = CharLSTM.TrainedModel(file; graph = graph)
            nll = CharLSTM.evaluate_text(model, heldout; streams = expected["eval"]["streams"])["nll"]
            @test isapprox(nll, expected["runs"][run][graph == :fused ? "eval_nll_fused" : "eval_nll_lstm"]; atol = 1e-5)
        end
    end
end
