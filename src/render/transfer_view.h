// The results of export, import and verify, as Reports (a JSON document and a table).
#pragma once

#include <string>
#include <vector>

#include "render/emit.h"
#include "transfer/transfer.h"

namespace sessionctl {

struct ExportReport : Report {
  std::string file;  // "-" for stdout
  transfer::ExportCounts counts;
  long long bytes = 0;
  bool masked = false;
  std::string compression;
  double seconds = 0;
  nlohmann::json to_json() const override;
  std::string to_table(const Terminal& term) const override;
};

struct ImportReport : Report {
  std::string file;
  bool dry_run = false;
  bool complete = true;  // the trailer was there and matched (false with --partial)
  transfer::ImportCounts counts;
  nlohmann::json to_json() const override;
  std::string to_table(const Terminal& term) const override;
};

struct VerifyReport : Report {
  std::string file;
  bool reveal = false;
  transfer::VerifyCounts counts;
  std::vector<transfer::Difference> differences;  // the first kMaxShown
  long long differences_total = 0;
  static constexpr std::size_t kMaxShown = 1000;
  bool matches() const { return differences_total == 0; }
  nlohmann::json to_json() const override;
  std::string to_table(const Terminal& term) const override;
};

}  // namespace sessionctl
