/**
 * The styles of the Element Plus components VMDesk uses, and only those (the whole library's CSS is
 * ~360 kB). Their scripts are imported on demand, each into the chunk of the template that uses it
 * (vite.config.ts); their styles are all loaded here, at start, before VMDesk's own CSS, so that
 * VMDesk's rules come after Element Plus's whatever chunk loads when, as when the library was loaded
 * whole (`.el-dialog__title`, `.el-form-item` and the `:root` sizes of styles.css override rules of
 * the same specificity). A unit test (src-main/server/renderer-bundle.test.ts) fails when a template
 * uses an <el-…> tag whose style is not in this list.
 */
import 'element-plus/es/components/base/style/css';
import 'element-plus/es/components/alert/style/css';
import 'element-plus/es/components/autocomplete/style/css';
import 'element-plus/es/components/button/style/css';
import 'element-plus/es/components/checkbox/style/css';
import 'element-plus/es/components/collapse-item/style/css';
import 'element-plus/es/components/collapse/style/css';
import 'element-plus/es/components/config-provider/style/css';
import 'element-plus/es/components/descriptions-item/style/css';
import 'element-plus/es/components/descriptions/style/css';
import 'element-plus/es/components/dialog/style/css';
import 'element-plus/es/components/divider/style/css';
import 'element-plus/es/components/dropdown-item/style/css';
import 'element-plus/es/components/dropdown-menu/style/css';
import 'element-plus/es/components/dropdown/style/css';
import 'element-plus/es/components/empty/style/css';
import 'element-plus/es/components/form-item/style/css';
import 'element-plus/es/components/form/style/css';
import 'element-plus/es/components/icon/style/css';
import 'element-plus/es/components/input-number/style/css';
import 'element-plus/es/components/input/style/css';
import 'element-plus/es/components/loading/style/css';
import 'element-plus/es/components/menu-item/style/css';
import 'element-plus/es/components/menu/style/css';
import 'element-plus/es/components/message-box/style/css';
import 'element-plus/es/components/message/style/css';
import 'element-plus/es/components/notification/style/css';
import 'element-plus/es/components/option/style/css';
import 'element-plus/es/components/popover/style/css';
import 'element-plus/es/components/progress/style/css';
import 'element-plus/es/components/radio-button/style/css';
import 'element-plus/es/components/radio-group/style/css';
import 'element-plus/es/components/radio/style/css';
import 'element-plus/es/components/select/style/css';
import 'element-plus/es/components/step/style/css';
import 'element-plus/es/components/steps/style/css';
import 'element-plus/es/components/sub-menu/style/css';
import 'element-plus/es/components/switch/style/css';
import 'element-plus/es/components/tab-pane/style/css';
import 'element-plus/es/components/table-column/style/css';
import 'element-plus/es/components/table/style/css';
import 'element-plus/es/components/tabs/style/css';
import 'element-plus/es/components/tag/style/css';
import 'element-plus/es/components/tooltip/style/css';
import 'element-plus/es/components/tree/style/css';
