@testset "train, checkpoint, sample, evaluate" begin
    # A text an LSTM learns in a few epochs; the greedy sample must then repeat it.
    text = repeat("hello world\n", 60)
    vocab = PyJLChar.build_vocabulary(text)
    spec = spec_for(PyJLChar.n_class(vocab); layers = 1, hidden = 16, embed = 8)
    train, validation = PyJLChar.split_text(text, 0.8)
    provider(part) = PyJLChar.CharSeqProvider(part, 4, 8, vocab, spec)
    model = mx.FeedForward(PyJLChar.LSTM(spec, 8))
    prefix = joinpath(mktempdir(), "ptb")
    mx.srand(1)
    Base.CoreLogging.with_logger(Base.CoreLogging.NullLogger()) do   # fit logs every epoch
        mx.fit(model, mx.ADAM(lr = 0.05), provider(train); n_epoch = 5, eval_data = provider(validation),
               eval_metric = PyJLChar.NLL(), initializer = mx.UniformInitializer(0.1),
               callbacks = [mx.do_checkpoint(prefix)])
    end
    meta = PyJLChar.new_meta(vocab, spec, test_settings(seq_len = 8))
    PyJLChar.write_meta(prefix, PyJLChar.record_epoch!(meta, 5; train_nll = 0.0, val_nll = 0.0, seconds = 0.0, cell = :lstm))

    path = mx.checkpoint_params_file(prefix, 5)
    @test sample_from(path; length = 23, temperature = 0, prime = "h") == ["hello world\nhello world\n"]
    @test PyJLChar.evaluate_text(PyJLChar.TrainedModel(path), validation)["nll"] < 0.1
end
