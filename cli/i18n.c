/* i18n.c - the Japanese texts of the administrator commands.
 *
 * A plain table of (English, Japanese) pairs, looked up by the English
 * text: the commands are few and their messages short, and a message
 * catalogue (gettext) would need a locale installed that a gateway may not
 * have.  Whether to translate is read once from LC_ALL, LC_MESSAGES and
 * LANG (the first one set and non-empty), as setlocale() would pick the
 * messages locale.  A text without a translation is printed in English.
 * test-qadmin.c checks that both sides of each pair have the same printf
 * conversions in the same order.
 */
#include "cli/i18n.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const struct pair {
	const char *en, *ja;
} table[] = {
	/* list */
	{ "usage:", "使い方:" },
	{ "(the quarantine commands also take [--config FILE] [--quarantine-dir DIR] [--audit-log FILE])",
	  "（quarantine の各コマンドにも [--config FILE] [--quarantine-dir DIR] [--audit-log FILE] を指定できます）" },
	{ "exit: 0 ok, 1 rejected, refused or not found, 2 usage or configuration, 75 temporary failure",
	  "終了コード: 0 成功、1 拒否・実行拒否・該当なし、2 使い方または設定の誤り、75 一時的な失敗（後で再試行）" },
	{ "ID", "隔離ID" },
	{ "TIME", "日時" },
	{ "VERDICT", "判定" },
	{ "SIZE", "サイズ" },
	{ "FROM", "差出人" },
	{ "SUBJECT", "件名" },
	/* show */
	{ "Time", "日時" },
	{ "Verdict", "判定" },
	{ "Verdict reason", "判定の理由" },
	{ "Record ID", "記録ID" },
	{ "Envelope from", "エンベロープ送信者" },
	{ "Recipients", "宛先" },
	{ "Client", "接続元" },
	{ "Header From", "From ヘッダ" },
	{ "Subject", "件名" },
	{ "Size", "サイズ" },
	{ "Reasons", "理由" },
	{ "Parts", "パート" },
	{ "Type", "宣言された型" },
	{ "Detected", "検出された型" },
	{ "Filename", "ファイル名" },
	{ "Name param", "name パラメータ" },
	{ "Findings", "検出内容" },
	{ "Approvals", "承認" },
	{ "Releases", "解放" },
	{ "%s (%" PRIu64 " bytes)", "%s（%" PRIu64 " バイト）" },
	{ "%" PRIu64 " bytes", "%" PRIu64 " バイト" },
	{ "%zu (%u removed)", "%zu（うち削除 %u）" },
	{ "Part %s: %s\n", "パート %s: %s\n" },
	{ "(none)", "（なし）" },
	{ " to %s", " 宛先 %s" },
	{ "--- Text the recipient received ---", "--- 受信者に届いた本文 ---" },
	{ "(not recorded: nothing was delivered, or the entry predates this record)",
	  "（記録なし: 配送されなかったか、この記録より前のエントリです）" },
	/* errors */
	{ "mugai: quarantine: writing output: %s\n", "mugai: quarantine: 出力を書き込めません: %s\n" },
	{ "mugai: quarantine: not a quarantine ID: %s\n", "mugai: quarantine: 隔離IDではありません: %s\n" },
	{ "mugai: quarantine: no such entry: %s\n", "mugai: quarantine: その隔離IDのエントリはありません: %s\n" },
	{ "mugai: quarantine: %s: no such part: %s\n", "mugai: quarantine: %s: そのパートはありません: %s\n" },
	{ "mugai: quarantine: %s: part export: %s\n", "mugai: quarantine: %s: パートを取り出せません: %s\n" },
	{ "mugai: quarantine: %s: exists; not overwritten\n",
	  "mugai: quarantine: %s: すでに存在するため上書きしません\n" },
	{ "mugai: quarantine: cannot write the audit log %s: %s; nothing done\n",
	  "mugai: quarantine: 監査ログ %s に書き込めません: %s（何も実行していません）\n" },
	{ "mugai: quarantine: cannot write the audit log %s: %s\n",
	  "mugai: quarantine: 監査ログ %s に書き込めません: %s\n" },
	/* acts */
	{ "%s: approved by %s\n", "%s: %s が承認しました\n" },
	{ "%s: deleted\n", "%s: 削除しました\n" },
	{ "%s: released to %s: %s\n", "%s: %s 宛てに解放しました: %s\n" },
	{ "purged %u entries from before %s\n", "%u 件のエントリを削除しました（%s より前のもの）\n" },
	{ "mugai: quarantine: %s: %s has approved it already\n",
	  "mugai: quarantine: %s: %s はすでに承認しています\n" },
	{ "mugai: quarantine: %s: verdict %s: releasing it needs --force\n",
	  "mugai: quarantine: %s: 判定が %s のため、解放には --force が必要です\n" },
	{ "mugai: quarantine: %s: needs %d administrators (the releaser and approvals of others), has %d\n",
	  "mugai: quarantine: %s: 管理者 %d 人（解放する人と、承認した他の管理者）が必要ですが、%d 人です\n" },
	{ "mugai: quarantine: %s: no recipients recorded; give --to\n",
	  "mugai: quarantine: %s: 宛先が記録されていません。--to で指定してください\n" },
	{ "mugai: quarantine: %s: the recorded recipient %s cannot be used; give --to\n",
	  "mugai: quarantine: %s: 記録された宛先 %s は使えません。--to で指定してください\n" },
	{ "mugai: quarantine: %s: the recorded sender %s cannot be used\n",
	  "mugai: quarantine: %s: 記録された送信者 %s は使えません\n" },
	{ "mugai: quarantine: %s: the SMTP server refused the release: %s\n",
	  "mugai: quarantine: %s: SMTP サーバーが解放を拒否しました: %s\n" },
	{ "mugai: quarantine: %s: release failed, nothing sent (try again later): %s\n",
	  "mugai: quarantine: %s: 解放できませんでした。何も送っていません（後でやり直してください）: %s\n" },
	{ "mugai: quarantine: %s: released, but the state file could not be written: %s\n",
	  "mugai: quarantine: %s: 解放しましたが、状態ファイルを書き込めませんでした: %s\n" },
	{ "mugai: quarantine: -o cannot be used through sudo -u; redirect the output instead\n",
	  "mugai: quarantine: sudo -u では -o を使えません。出力をリダイレクトしてください\n" },
	{ "mugai: quarantine: %s: review state: %s\n", "mugai: quarantine: %s: 承認・解放の記録: %s\n" },
	{ "mugai: quarantine: review state %s: %s\n", "mugai: quarantine: 承認・解放の記録 %s: %s\n" },
	{ "mugai: quarantine: %s: review state not removed: %s\n",
	  "mugai: quarantine: %s: 承認・解放の記録を削除できませんでした: %s\n" },
	{ "mugai: quarantine: review state not removed: %s\n",
	  "mugai: quarantine: 承認・解放の記録を削除できませんでした: %s\n" },
	{ " [used by the release at %s]", " [%s の解放で使用済み]" },
	{ " [valid until %s]", " [%s まで有効]" },
	{ " [expired %s]", " [%s に期限切れ]" },
	/* the command line */
	{ "mugai: quarantine: --config, --quarantine-dir and --audit-log cannot be used through sudo\n",
	  "mugai: quarantine: sudo 経由では --config、--quarantine-dir、--audit-log を使えません\n" },
	{ "mugai: %s: %s: %s\n", "mugai: %s: %s: %s\n" },
	{ "mugai: quarantine %s: --reason TEXT is required (it goes into the audit log)\n",
	  "mugai: quarantine %s: --reason で理由を指定してください（監査ログに記録されます）\n" },
	{ "not a date (YYYY-MM-DD) or an RFC 3339 time", "日付（YYYY-MM-DD）でも RFC 3339 の日時でもありません" },
	{ "not a verdict", "判定の名前ではありません" },
	{ "give a reason (UTF-8 text, up to 1000 bytes)", "理由を指定してください（UTF-8、1000 バイトまで）" },
	{ "not a mail address", "メールアドレスではありません" },
	{ "not a number of days (0..36500)", "日数（0〜36500）ではありません" },
};

static int forced = -1, cached = -1;

bool i18n_japanese(void)
{
	if (forced >= 0)
		return forced;
	if (cached < 0) {
		static const char *const vars[] = { "LC_ALL", "LC_MESSAGES", "LANG" };
		cached = 0;
		for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
			const char *v = getenv(vars[i]);
			if (v && *v) {
				cached = strncmp(v, "ja", 2) == 0;
				break;
			}
		}
	}
	return cached;
}

void i18n_force(int japanese)
{
	forced = japanese < 0 ? -1 : japanese != 0;
	cached = -1;
}

const char *i18n_text(const char *en)
{
	if (!en || !i18n_japanese())
		return en;
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		if (strcmp(table[i].en, en) == 0)
			return table[i].ja;
	return en;
}

size_t i18n_count(void)
{
	return sizeof table / sizeof table[0];
}

void i18n_pair(size_t i, const char **en, const char **ja)
{
	*en = i < i18n_count() ? table[i].en : NULL;
	*ja = i < i18n_count() ? table[i].ja : NULL;
}
