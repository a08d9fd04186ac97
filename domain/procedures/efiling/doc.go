// Package efiling writes the electronic-filing data of the social-insurance forms in the layout of 日本年金機構's
// 届書作成プログラム ("CSV形式届書作成仕様書"), and converts dates to the Japanese eras that forms use.
//
// DOMAIN.md fixes the file (SHFD0006.CSV, Shift_JIS, CRLF, fixed record order) but not its records; the layout
// below follows the public specification as far as we know it. Items this service has no data for are written
// empty, which the specification allows for optional items. Keep it here, in one place, when it is corrected.
//
// # File
//
// One file per employer office (one 事業所 per 申請), records in this order, each ending in CRLF (0D 0A):
//
//	line 1  媒体管理レコード     都道府県コード,郡市区符号,事業所記号,媒体通番(001–999),作成年月日(YYYYMMDD),代表届書コード(22223)
//	line 2  [kanri]
//	line 3  事業所数情報          (予備, empty),事業所情報数(001)
//	line 4  事業所情報            都道府県コード,郡市区符号,事業所記号,事業所番号,郵便番号(親 3 digits),郵便番号(子 4 digits),
//	                              所在地,名称,事業主氏名,電話(市外局番),電話(局番),電話(番号)
//	line 5  [data]
//	line 6… データレコード        one per insured person, by 様式コード (below)
//
// Fields are separated by "," with no quoting: a value containing a comma, a quote, CR or LF is refused.
// Characters are JIS X 0201 (ASCII and half-width katakana) in one byte and JIS X 0208 levels 1 and 2 in Shift_JIS
// in two. Windows code page 932 extensions (NEC special characters such as ① and ㈱, NEC-selected and IBM
// extension kanji such as 髙 and 﨑) are not JIS X 0208: they are refused with an error naming the character, not
// replaced, because a name must not change silently. 〜 (U+301C) and − (U+2212) are written as their Shift_JIS
// code points (0x8160, 0x817C). Kana names and addresses are half-width katakana (ﾔﾏﾀﾞ ﾀﾛｳ, family and given
// name separated by one half-width space); kanji names have one full-width space between them.
//
// Dates are written as an era code (明治 1, 大正 3, 昭和 5, 平成 7, 令和 9) followed by YYMMDD in that era (令和8年4月1日 →
// "9","080401"). Amounts are yen, zero-padded to 7 digits (at most 9,999,999).
//
// # 2200700 健康保険・厚生年金保険 被保険者資格取得届 (34 items)
//
//	 1 様式コード 2200700        13 個人番号                   25 備考 二以上事業所勤務者 (1)
//	 2 都道府県コード            14 (empty)                    26 備考 短時間労働者 (1)
//	 3 郡市区符号                15 (empty)                    27 備考 退職後の継続再雇用者 (1)
//	 4 事業所記号                16 基礎年金番号 課所符号 (4)   28 備考 その他 (text)
//	 5 事業所番号                17 基礎年金番号 一連番号 (6)   29 郵便番号 親 (3)
//	 6 被保険者整理番号          18 取得年月日 元号             30 郵便番号 子 (4)
//	 7 氏名 (カナ)               19 取得年月日 YYMMDD           31 住所 (カナ)
//	 8 氏名 (漢字)               20 被扶養者 (0 無, 1 有)       32 住所 (漢字)
//	 9 生年月日 元号             21 報酬月額 通貨               33 (empty)
//	10 生年月日 YYMMDD           22 報酬月額 現物               34 (empty)
//	11 種別 (1 男, 2 女)         23 報酬月額 合計
//	12 取得区分 (1 健保・厚年)   24 備考 70歳以上被用者 (1)
//
// The basic pension number and the address (29–32) are written only when the person has no My Number: the
// specification needs them then, and the law asks us not to spread addresses needlessly otherwise.
//
// # 2201700 健康保険・厚生年金保険 被保険者資格喪失届 (27 items)
//
//	1 様式コード 2201700        10 生年月日 YYMMDD             19 備考 二以上事業所勤務者の喪失 (1)
//	2 都道府県コード            11 個人番号                    20 備考 退職後の継続再雇用者の喪失 (1)
//	3 郡市区符号                12 基礎年金番号 課所符号       21 備考 その他 (text)
//	4 事業所記号                13 基礎年金番号 一連番号       22 保険証回収 添付 (empty)
//	5 事業所番号                14 喪失年月日 元号             23 保険証回収 返不能 (empty)
//	6 被保険者整理番号          15 喪失年月日 YYMMDD           24 70歳不該当 (1)
//	7 氏名 (カナ)               16 喪失原因 (4,5,7,9,11)       25 不該当年月日 元号
//	8 氏名 (漢字)               17 退職日等 元号 (原因 4, 5)   26 不該当年月日 YYMMDD (the retirement day itself)
//	9 生年月日 元号             18 退職日等 YYMMDD             27 (empty)
//
// The 雇用保険 forms are filed with ハローワーク in another format; Build refuses them.
package efiling
