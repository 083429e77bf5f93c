@testset "throughput" begin
    dir = mktempdir()
    corpus, cache = [joinpath(dir, "corpus.txt")], joinpath(dir, "corpora")
    write(corpus[1], repeat(FIXTURE_TEXT, 20))
    settings = test_settings(seq_len = 5, batch_size = 3)
    bench(graph; kw...) = CharLSTM.bench_train(model_section(graph = graph), data_settings(), settings, compute_settings(),
                                               corpus, cache; kw...)
    @testset "training for a wall-clock budget ($graph graph)" for graph in ("unrolled", "fused")
        r = bench(graph; seconds = 1.5, warmup_batches = 2, validate = true)
        @test r["batches"] > 2 && r["chars_per_s"] > 0 && isfinite(r["train_nll"]) && isfinite(r["val_nll"])
        @test bench(graph; seconds = 0.5)["val_nll"] === nothing
    end
    @test bench("unrolled"; seconds = 0.0, warmup_batches = 2)["batches"] == 3   # a figure, however short
    # (the budgeted pass itself: train/test_passes.jl)
    @testset "sampling $streams stream(s) ($graph graph)" for streams in (1, 4), graph in (:fused, :unrolled)
        r = CharLSTM.bench_sample(spec_for(10; layers = 1, hidden = 8, embed = 4, graph = graph);
                                  streams = streams, seconds = 0.3, init_scale = 0.1)
        @test r["chars_per_s"] > 0 && r["streams"] == streams
    end
end
