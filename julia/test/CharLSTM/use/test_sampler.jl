@testset "sampler" begin
    dir = mktempdir()
    path, params, vocab, spec = make_checkpoint(dir)
    sample(; kwargs...) = sample_from(path; length = 40, prime = "the ", kwargs...)
    draw(rng, probs, args...) = CharLSTM.draw_class!(Vector{Float64}(undef, length(probs)), rng, probs, args...)

    @testset "prime + length characters from the vocabulary, one per sample" begin
        texts = sample(seed = 1, num_samples = 3)
        @test length(texts) == 3
        @test all(length(t) == 44 && startswith(t, "the ") for t in texts)
        @test all(all(c in vocab.chars for c in t) for t in texts)   # no '?', no unknown class
        @test sample_from(path; length = 1, prime = "ab", seed = 1)[1][1:2] == "ab"
    end

    @testset "seeded draws repeat" begin
        @test sample(seed = 7, num_samples = 2) == sample(seed = 7, num_samples = 2)
        @test sample(seed = 7, num_samples = 2) != sample(seed = 8, num_samples = 2)
    end

    @testset "temperature 0 is the likeliest path; top_k 1 is the same" begin
        greedy = sample(temperature = 0, num_samples = 2)
        @test greedy[1] == greedy[2] == sample(temperature = 0, seed = 3)[1]
        @test sample(top_k = 1, seed = 5) == greedy[1:1]
    end

    @testset "the greedy path follows the model step by step, states carried" begin
        text = sample(temperature = 0)[1]
        ids = CharLSTM.encode(vocab, text)
        predictor = CharLSTM.StatefulPredictor(spec, params, length(ids) - 1, 1)
        probs = CharLSTM.predict!(predictor, reshape(ids[1:end-1], :, 1))
        known = 1:CharLSTM.unknown_class(vocab)
        @test all(argmax(probs[t][known, 1]) - 1 == ids[t+1] for t in 4:length(ids)-1)
    end

    @testset "draw_class: temperature, top_k, never the unknown class" begin
        rng = Random.MersenneTwister(0)
        probs = Float32[0.1, 0.3, 0.2, 0.4]   # the last class is the unknown one
        @test draw(rng, probs, 3, 0.0, 0, 1.0) == 1
        draws = [draw(rng, probs, 3, 1.0, 2, 1.0) for _ in 1:2000]
        @test Set(draws) == Set(Int32[1, 2])
        @test 0.5 < count(==(1), draws) / 2000 < 0.7   # 0.3 / (0.3 + 0.2)
        @test Set(draw(rng, probs, 3, 1.0, 0, 1.0) for _ in 1:500) == Set(Int32[0, 1, 2])
        @test all(draw(rng, probs, 3, 0.05, 0, 1.0) == 1 for _ in 1:200)
    end

    @testset "draw_class: top_p 1 draws what the sampler drew before top_p existed" begin
        # Recorded with the draw_class that had no top_p: the same seed must keep its text.
        rng = Random.MersenneTwister(11)
        probs = Float32[0.05, 0.25, 0.1, 0.3, 0.2, 0.1]
        @test [draw(rng, probs, 5, 1.0, 0, 1.0) for _ in 1:24] ==
              Int32[2, 3, 4, 3, 2, 2, 3, 3, 4, 1, 1, 3, 1, 0, 1, 3, 1, 4, 4, 1, 1, 2, 3, 4]
        @test [draw(rng, probs, 5, 0.7, 3, 1.0) for _ in 1:12] ==
              Int32[4, 3, 3, 4, 4, 3, 3, 3, 3, 4, 3, 4]
    end

    @testset "draw_class: top_p keeps the likeliest classes up to that mass, after top_k" begin
        rng = Random.MersenneTwister(0)
        probs = Float32[0.1, 0.4, 0.2, 0.3, 0.0]   # the last class is the unknown one
        draws(k, p; T = 1.0, n = 2000) = [draw(rng, probs, 4, T, k, p) for _ in 1:n]
        @test Set(draws(0, 0.35)) == Set(Int32[1])           # 0.4 alone reaches 0.35
        @test Set(draws(0, 0.5)) == Set(Int32[1, 3])         # 0.4 + 0.3 is the smallest set past 0.5
        d = draws(0, 0.65)
        @test Set(d) == Set(Int32[1, 3])
        @test 0.5 < count(==(1), d) / 2000 < 0.64            # renormalised: 0.4 / 0.7
        @test Set(draws(0, 0.95)) == Set(Int32[0, 1, 2, 3])
        @test Set(draws(0, 0.01; n = 200)) == Set(Int32[1])  # always at least the likeliest
        # top_k first: of 0.4 and 0.3, renormalised to 4/7 and 3/7, 0.5 needs only the first
        @test Set(draws(2, 0.5)) == Set(Int32[1])
        @test Set(draws(0, 0.75)) == Set(Int32[1, 2, 3])
        @test Set(draws(3, 0.75)) == Set(Int32[1, 3])         # 0.4 + 0.3 is 7/9 of the top 3
        # on the sharpened distribution: at T = 0.5, 0.4² / (0.01 + 0.16 + 0.04 + 0.09) > 0.5
        @test Set(draws(0, 0.5; T = 0.5)) == Set(Int32[1])
    end

    @testset "top_p 1 leaves sample_text's texts as they were; lower keeps them likelier" begin
        @test sample(seed = 4, top_p = 1.0, num_samples = 2) == sample(seed = 4, num_samples = 2)
        @test sample(top_p = 1e-6, seed = 9) == sample(temperature = 0)
    end

    @testset "a loaded model samples again and again from fresh states, reusing its predictor" begin
        model = CharLSTM.TrainedModel(path)
        settings(n) = sample_settings(length = 40, prime = "the ", num_samples = n)
        first_texts = CharLSTM.sample_text(model, settings(2); seed = 7)
        bound = model.sampler
        @test CharLSTM.sample_text(model, settings(2); seed = 7) == first_texts
        @test first_texts == sample(seed = 7, num_samples = 2)
        @test model.sampler === bound
        @test CharLSTM.sample_text(model, settings(1); seed = 7)[1] == sample(seed = 7)[1]
    end

    @testset "a stream goes on where it stopped: the same text as one sample" begin
        model = CharLSTM.TrainedModel(path)
        stream = CharLSTM.open_stream(model, sample_settings(prime = "the "); seed = 3)
        parts = [CharLSTM.next_text!(stream, n) for n in (1, 7, 32, 20)]
        # Sampling in between leaves the stream alone: it has its own predictor.
        CharLSTM.sample_text(model, sample_settings(length = 5, prime = "a"); seed = 1)
        push!(parts, CharLSTM.next_text!(stream, 10))
        @test "the " * join(parts) == sample(seed = 3, length = 70)[1]
    end

    @testset "the fused step predictor: the training graph's probabilities, states carried, the same text" begin
        model = CharLSTM.TrainedModel(path; graph = :fused)
        streams = 3
        step = CharLSTM.StepPredictor(model.spec, model.arg_params, streams)
        graph = CharLSTM.StatefulPredictor(model.spec, model.arg_params, 1, streams)
        rng = Random.MersenneTwister(5)
        for _ in 1:30   # past the first steps, so the states it alternates must be the right ones
            ids = Int32.(rand(rng, 0:model.spec.n_class - 1, streams))
            @test CharLSTM.predict_step!(step, ids) == CharLSTM.predict!(graph, reshape(ids, 1, :))[1]
        end
        CharLSTM.reset_states!(step)
        CharLSTM.reset_states!(graph)
        @test CharLSTM.predict_step!(step, Int32[1, 2, 3]) == CharLSTM.predict!(graph, Int32[1 2 3])[1]
        # The text a seed draws through the training graph bound for one step, as sampling did before.
        settings = sample_settings(length = 60, num_samples = 2, prime = "the ", temperature = 0.8)
        before = CharLSTM.TextDraw(model, CharLSTM.StatefulPredictor(model.spec, model.arg_params, 1, 2), settings;
                                   seed = 21)
        @test CharLSTM.sample_text(model, settings; seed = 21) ==
              ["the " * CharLSTM.decode(vocab, view(drawn, :, i)) for drawn in [CharLSTM.draw!(before, 60)] for i in 1:2]
        @test model.sampler isa CharLSTM.StepPredictor
        unrolled = CharLSTM.TrainedModel(path; graph = :unrolled)   # the unrolled graph keeps its own predictor
        @test unrolled.spec.graph == :unrolled && CharLSTM.sampler!(unrolled, 2) isa CharLSTM.StatefulPredictor
        @test_throws ArgumentError CharLSTM.StepPredictor(unrolled.spec, unrolled.arg_params, 1)
    end

    @testset "a draw allocates nothing beyond its predictor's step" begin
        probs = Float32[0.1, 0.4, 0.2, 0.3, 0.0]
        weights, rng = zeros(length(probs)), Random.MersenneTwister(1)
        CharLSTM.draw_class!(weights, rng, probs, 4, 0.9, 0, 1.0)
        @test @allocated(CharLSTM.draw_class!(weights, rng, probs, 4, 0.9, 0, 1.0)) == 0
    end

    @testset "user errors" begin
        msg = user_error(() -> sample(prime = "héllo✓"))
        @test occursin("\"é\"", msg) && occursin("\"✓\"", msg) && occursin("vocabulary lacks", msg)
        @test occursin("empty", user_error(() -> sample(prime = "")))
        # The [sample] section's check refuses these settings, naming them (test_settings.jl).
        @test occursin("'temperature' in [sample]", user_error(() -> sample(temperature = -1)))
        @test occursin("'num_samples' in [sample]", user_error(() -> sample(num_samples = 0)))
        @test occursin("'length' in [sample]", user_error(() -> sample(length = 0)))
        @test occursin("'top_p' in [sample]", user_error(() -> sample(top_p = 0)))
        @test occursin("'top_p' in [sample]", user_error(() -> sample(top_p = 1.5)))
        mx.has_feature("CUDA") ||
            @test occursin("CUDA", user_error(() -> CharLSTM.TrainedModel(path; context = CharLSTM.devices("gpu")[1])))
    end
end
