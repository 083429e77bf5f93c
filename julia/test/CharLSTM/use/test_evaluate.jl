@testset "evaluate" begin
    dir = mktempdir()
    path, params, vocab, spec = make_checkpoint(dir)

    # The plain way: one step at a time, states copied back by hand.
    function step_by_step_nll(ids)
        lstm = CharLSTM.LSTM(spec, 1; output_states = true)
        inputs = [CharLSTM.lstm_data_shapes(spec, 1, 1); CharLSTM.lstm_label_shapes(spec, 1, 1)]
        args = merge(Dict(name => mx.zeros(shape) for (name, shape) in inputs), params)
        exec = mx.bind(lstm, mx.cpu(), args; grad_req = :null)
        total = 0.0
        for k in 1:length(ids)-1
            onehot = zeros(Float32, spec.n_class, 1)
            onehot[ids[k] + 1] = 1
            outputs = mx.forward(exec; ptb_data_1 = onehot)
            total -= log(copy(outputs[1])[ids[k+1] + 1])
            for l in 1:spec.layers
                copy!(args[Symbol("ptb_l$(l)_init_c")], copy(outputs[1 + l]))
                copy!(args[Symbol("ptb_l$(l)_init_h")], copy(outputs[1 + spec.layers + l]))
            end
        end
        return total / (length(ids) - 1)
    end

    text = FIXTURE_TEXT[1:30]
    expected = step_by_step_nll(CharLSTM.encode(vocab, text))

    @testset "chunked scoring is one continuous stream (chunk_len $chunk_len)" for chunk_len in (7, 29, 100)
        result = CharLSTM.evaluate_text(CharLSTM.TrainedModel(path), text; chunk_len = chunk_len)
        @test abs(result["nll"] - expected) < 1e-4
        @test result["n_chars"] == 30 && result["n_predicted"] == 29 && result["unknown"] == 0
        @test result["perplexity"] ≈ exp(result["nll"])
        @test result["bits_per_char"] ≈ result["nll"] / log(2)
    end

    @testset "unknown characters are counted and scored as the unknown class" begin
        odd = "the ✓ QUICK fox"
        result = CharLSTM.evaluate_text(CharLSTM.TrainedModel(path), odd)
        @test result["unknown"] == 6
        @test abs(result["nll"] - step_by_step_nll(CharLSTM.encode(vocab, odd))) < 1e-4
    end

    @testset "$streams streams: pieces scored from zero states, each character predicted once" for streams in (2, 3, 29, 100)
        ids = CharLSTM.encode(vocab, text)
        steps = cld(length(ids) - 1, streams)
        pieces = [ids[s:min(s + steps, end)] for s in 1:steps:length(ids)-1]   # each starts where the last ended
        expected = sum(step_by_step_nll(piece) * (length(piece) - 1) for piece in pieces) / (length(ids) - 1)
        result = CharLSTM.evaluate_text(CharLSTM.TrainedModel(path), text; streams = streams, chunk_len = 4)
        @test abs(result["nll"] - expected) < 1e-4
        @test result["streams"] == length(pieces) && result["n_predicted"] == 29
        @test CharLSTM.evaluate_text(CharLSTM.TrainedModel(path), text; streams = 1)["streams"] == 1
    end

    @testset "a corpus scores from its memory map as the same text in memory" begin
        odd = repeat("the ✓ QUICK fox\n", 20)
        file = joinpath(dir, "scored.txt")
        write(file, odd)
        corpus = Base.CoreLogging.with_logger(() -> CharLSTM.encoded_corpus([file], joinpath(dir, "corpora")),
                                              Base.CoreLogging.NullLogger())
        for streams in (1, 4)
            @test CharLSTM.evaluate_corpus(CharLSTM.TrainedModel(path), corpus; streams = streams) ==
                  CharLSTM.evaluate_text(CharLSTM.TrainedModel(path), odd; streams = streams)
        end
        @test CharLSTM.evaluate_corpus(CharLSTM.TrainedModel(path), corpus)["unknown"] == 6 * 20
    end

    @testset "a text too short to score" begin
        @test_throws PyJLChar.UserError CharLSTM.evaluate_text(CharLSTM.TrainedModel(path), "a")
        @test_throws PyJLChar.UserError CharLSTM.evaluate_text(CharLSTM.TrainedModel(path), "")
    end
end
