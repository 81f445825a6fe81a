// Loads an exported model (a `clintorch train` export, a checkpoint or a HF folder) and predicts
// on the texts given as arguments through the clintorch library; prints one JSON line per text
// (NER: entities with character spans; classification: label and scores).
//   predict_example MODEL_DIR "Patient denies chest pain." "No fever today."
#include <clintorch/eval/predict.h>

#include <iostream>
#include <vector>

int main(int argc, char** argv) {
  namespace eval = clintorch::eval;
  if (argc < 3) {
    std::cerr << "usage: " << argv[0] << " MODEL_DIR TEXT...\n";
    return 2;
  }
  try {
    eval::InferenceModel model = eval::load_inference_model(argv[1]);
    const eval::DocumentPredictor predictor(model, eval::PredictOptions{}, "arguments");
    std::vector<eval::PredictDocument> docs;
    for (int i = 2; i < argc; ++i) docs.push_back(predictor.from_text(argv[i], i - 1));
    const auto features = predictor.features(docs);
    for (const auto& record : predictor.predict(docs, *features))
      std::cout << record.dump() << "\n";
  } catch (const std::exception& e) {  // clintorch::Error says which file and what to do
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
