// The device a command or recipe asked for, resolved on this machine: the one definition behind
// training.device and every command's --device (auto | cpu | cuda | cuda:N).
//
//   c10::Device d = model::select_device("auto", "--device");  // cuda:0 when usable, else cpu
#pragma once

#include <c10/core/Device.h>

#include <string>

namespace clintorch::model {

// auto: cuda:0 when CUDA is usable, else cpu; cpu; cuda (= cuda:0); cuda:N. Throws Error
// "WHERE: ..." when the name is not one of these, when CUDA is asked for but not usable, or when
// N is not below the number of CUDA devices. `where` names the option or the recipe key's
// file:line.
c10::Device select_device(const std::string& name, const std::string& where);

}  // namespace clintorch::model
